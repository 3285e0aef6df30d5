//! Keeping stored forecasts current. A background thread polls the ledger for movements
//! newer than the last it saw (one indexed query a second) and updates the pairs they touch
//! in one transaction: a movement of today only changes the stock position, so the stored
//! forecast (fitted on history through yesterday) is reassessed without fitting; a movement
//! dated earlier changes the history, so that pair is fitted again. At start and when the
//! local day changes every pair is fitted again. Under a flood of writes a pair is refreshed
//! at most once every few seconds (the writes in between are folded into its next refresh),
//! and the poll slows down so that the refresher never takes more than about a third of a
//! core. On PostgreSQL ids are taken before commit, so a movement may become visible
//! after a higher id was seen: each poll looks again at the movements of the poll before
//! (SQLite commits in id order and needs no second look). Polling the ledger rather than
//! hooking the write path means every server of a PostgreSQL deployment sees every
//! other's writes, and a write never waits for a forecast.

use super::compute::{ForecastSettings, compute, reassess};
use chrono::{DateTime, NaiveDate, Utc};
use ppe_persistence::forecasts::{self, ForecastRow, Pair, Touch};
use ppe_persistence::lease::{Lease, LeaseKey};
use ppe_persistence::{Db, StoreError};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

/// How often the ledger is polled for new movements.
pub const POLL: Duration = Duration::from_secs(1);

/// Rows per write transaction: the SQLite writer also serves stock reports, which must not wait
/// behind one long transaction of forecasts.
const ROWS_PER_WRITE: usize = 32;

/// Stores rows in short transactions; `status_only` leaves the stored daily detail alone.
fn store(db: &Db, rows: Vec<ForecastRow>, status_only: bool) -> Result<(), StoreError> {
    let mut rows = rows;
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(ROWS_PER_WRITE));
        let chunk = Arc::new(rows);
        db.write(move |c| {
            if status_only {
                forecasts::update_status(c, &chunk)
            } else {
                forecasts::store(c, &chunk)
            }
        })?;
        rows = rest;
    }
    Ok(())
}

/// What one refresh did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Refreshed {
    pub series: usize,
    pub seconds: f64,
}

/// Recomputes `only` these pairs, or all of them, and stores the rows in one transaction.
pub fn refresh(
    db: &Db,
    settings: &ForecastSettings,
    only: Option<&BTreeSet<Pair>>,
    now: DateTime<Utc>,
    progress: &indicatif::ProgressBar,
) -> Result<Refreshed, StoreError> {
    let started = Instant::now();
    let inputs = db.read(|c| forecasts::load_inputs(c, only))?;
    progress.set_length(inputs.len() as u64);
    let rows: Vec<ForecastRow> = inputs
        .par_iter()
        .map(|i| {
            let row = compute(i, settings, now);
            progress.inc(1);
            row
        })
        .collect();
    progress.finish_and_clear();
    let series = rows.len();
    store(db, rows, false)?;
    Ok(Refreshed {
        series,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Updates the pairs touched since the last poll: reassessed when only their stock position
/// changed, fitted again when their history did (or when they have no stored row yet).
pub fn refresh_touched(
    db: &Db,
    settings: &ForecastSettings,
    touched: &BTreeMap<Pair, Touch>,
    now: DateTime<Utc>,
) -> Result<Refreshed, StoreError> {
    let started = Instant::now();
    let keys: BTreeSet<Pair> = touched.keys().copied().collect();
    let (stored, positions) = db.read(|c| {
        Ok::<_, StoreError>((
            forecasts::stored_rows(c, &keys)?,
            forecasts::positions(c, &keys)?,
        ))
    })?;
    let mut refit: BTreeSet<Pair> = keys.clone();
    let mut reassessed = Vec::with_capacity(keys.len());
    for row in &stored {
        let pair = (row.site_id, row.item_id);
        let touch = touched.get(&pair).copied().unwrap_or_default();
        let history_changed = touch
            .earliest
            .is_some_and(|t| settings.local_day(t.and_utc()) < row.first_day);
        if history_changed {
            continue;
        }
        let position = positions.get(&pair).copied().unwrap_or((0, 0));
        match reassess(row, position, touch.newest_id, settings, now) {
            Ok(r) => {
                reassessed.push(r);
                refit.remove(&pair);
            }
            Err(e) => log::warn!("stored forecast of {pair:?} unreadable, fitting again: {e}"),
        }
    }
    let mut series = reassessed.len();
    store(db, reassessed, true)?;
    if !refit.is_empty() {
        let inputs = db.read(|c| forecasts::load_inputs(c, Some(&refit)))?;
        let rows: Vec<ForecastRow> = inputs
            .par_iter()
            .map(|i| compute(i, settings, now))
            .collect();
        series += rows.len();
        store(db, rows, false)?;
    }
    Ok(Refreshed {
        series,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The background refresher: polls for new movements and refreshes what they touched.
/// On PostgreSQL it works only while this process holds the refresher lease, so one
/// replica refreshes for all and another takes over when it stops.
pub struct Refresher {
    stop: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

impl Refresher {
    pub fn spawn(db: Db, settings: Arc<ForecastSettings>) -> std::io::Result<Refresher> {
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("forecast-refresh".into())
            .spawn(move || {
                // Forecasts are for planning: answering and recording come first.
                ppe_persistence::priority::lower_this_thread();
                let mut lease = Lease::new(db.target().clone(), LeaseKey::ForecastRefresh);
                let mut watermark: Option<Watermark> = None;
                let mut day: Option<NaiveDate> = None;
                let mut backlog = Backlog::default();
                let mut pause = POLL;
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(pause) {
                    if !lease.held() {
                        // Whoever takes the lease next starts with a full refresh.
                        watermark = None;
                        backlog = Backlog::default();
                        pause = LEASE_POLL;
                        continue;
                    }
                    let started = Instant::now();
                    if let Err(e) = step(&db, &settings, &mut watermark, &mut day, &mut backlog) {
                        log::warn!("forecast refresh: {e}");
                    }
                    pause = POLL.max(2 * started.elapsed());
                }
            })?;
        Ok(Refresher { stop, thread })
    }

    /// Asks the refresher to stop after its current step and waits up to `deadline`.
    pub fn stop(self, deadline: Duration) {
        let _ = self.stop.send(());
        let until = Instant::now() + deadline;
        while !self.thread.is_finished() && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        if !self.thread.is_finished() {
            log::warn!("the forecast refresher did not stop within {deadline:?}");
        }
    }
}

/// How often a replica without the lease asks for it.
const LEASE_POLL: Duration = Duration::from_secs(5);

/// The newest movement id seen by the last poll and by the one before.
#[derive(Debug, Clone, Copy)]
struct Watermark {
    newest: i64,
    before: i64,
}

/// One poll: everything on the first run and on a new local day, else the touched pairs
/// that are due.
fn step(
    db: &Db,
    settings: &ForecastSettings,
    watermark: &mut Option<Watermark>,
    day: &mut Option<NaiveDate>,
    backlog: &mut Backlog,
) -> Result<(), StoreError> {
    let now = Utc::now();
    let today = settings.local_day(now);
    match *watermark {
        Some(w) if *day == Some(today) => {
            let since = if db.backend().commits_in_id_order() {
                w.newest
            } else {
                w.before
            };
            let (touched, newest) = db.read(|c| forecasts::touched_since(c, since))?;
            backlog.add(touched);
            let due = backlog.due(Instant::now());
            if !due.is_empty() {
                match refresh_touched(db, settings, &due, now) {
                    Ok(r) => {
                        crate::metrics::forecast_refreshed(r.seconds);
                        log::debug!("refreshed {} forecasts in {:.3} s", r.series, r.seconds);
                    }
                    Err(e) => {
                        backlog.retry(due);
                        return Err(e);
                    }
                }
            }
            *watermark = Some(Watermark {
                newest,
                before: w.newest,
            });
        }
        _ => {
            let newest = db.read(forecasts::newest_movement)?;
            let r = refresh(db, settings, None, now, &crate::progress::none())?;
            crate::metrics::forecast_refreshed(r.seconds);
            log::info!(
                "forecasts: {} series refreshed in {:.2} s",
                r.series,
                r.seconds
            );
            *watermark = Some(Watermark {
                newest,
                before: newest,
            });
            *day = Some(today);
            *backlog = Backlog::default();
        }
    }
    Ok(())
}

/// The shortest time between two refreshes of one pair. Under a flood of writes every
/// pair is touched at every poll; refreshing each at most this often bounds the work by
/// the number of pairs instead of the rate of writes, while a pair touched after a quiet
/// spell is still refreshed at the next poll.
const PAIR_SPACING: Duration = Duration::from_secs(5);

/// Pairs touched and not refreshed yet, and when recently refreshed pairs were.
#[derive(Debug, Default)]
struct Backlog {
    pending: BTreeMap<Pair, Touch>,
    refreshed: BTreeMap<Pair, Instant>,
}

impl Backlog {
    /// Folds a poll's touches into those waiting.
    fn add(&mut self, touched: BTreeMap<Pair, Touch>) {
        for (pair, t) in touched {
            self.pending
                .entry(pair)
                .and_modify(|waiting| {
                    waiting.newest_id = waiting.newest_id.max(t.newest_id);
                    waiting.earliest = match (waiting.earliest, t.earliest) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                })
                .or_insert(t);
        }
    }

    /// Takes the waiting pairs not refreshed within [`PAIR_SPACING`] before `now`, and
    /// counts them refreshed at `now`.
    fn due(&mut self, now: Instant) -> BTreeMap<Pair, Touch> {
        self.refreshed
            .retain(|_, at| now.saturating_duration_since(*at) < PAIR_SPACING);
        let ready: Vec<Pair> = self
            .pending
            .keys()
            .filter(|p| !self.refreshed.contains_key(p))
            .copied()
            .collect();
        ready
            .into_iter()
            .filter_map(|p| {
                self.refreshed.insert(p, now);
                self.pending.remove(&p).map(|t| (p, t))
            })
            .collect()
    }

    /// Puts back pairs whose refresh failed, to be tried at the next poll.
    fn retry(&mut self, due: BTreeMap<Pair, Touch>) {
        for p in due.keys() {
            self.refreshed.remove(p);
        }
        self.add(due);
    }
}

#[cfg(test)]
mod tests {
    use super::{Backlog, PAIR_SPACING};
    use chrono::NaiveDate;
    use ppe_persistence::forecasts::Touch;
    use std::collections::BTreeMap;
    use std::time::{Duration, Instant};

    fn touch(newest_id: i64, day: u32) -> Touch {
        Touch {
            newest_id,
            earliest: NaiveDate::from_ymd_opt(2026, 3, day).and_then(|d| d.and_hms_opt(8, 0, 0)),
        }
    }

    #[test]
    fn a_pair_is_refreshed_at_most_once_per_spacing_with_every_touch_folded_in() {
        let t0 = Instant::now();
        let mut b = Backlog::default();
        b.add(BTreeMap::from([
            ((1, 1), touch(10, 5)),
            ((1, 2), touch(11, 5)),
        ]));
        assert_eq!(
            b.due(t0).len(),
            2,
            "touched after a quiet spell: refreshed at once"
        );
        // Touched again at the next polls: held back, touches folded together.
        b.add(BTreeMap::from([((1, 1), touch(20, 3))]));
        b.add(BTreeMap::from([((1, 1), touch(15, 4))]));
        assert!(b.due(t0 + Duration::from_secs(1)).is_empty());
        let due = b.due(t0 + PAIR_SPACING);
        assert_eq!(due.len(), 1);
        assert_eq!(
            due[&(1, 1)],
            touch(20, 3),
            "newest id and earliest time of the touches"
        );
        assert!(
            b.due(t0 + 2 * PAIR_SPACING).is_empty(),
            "nothing left waiting"
        );
    }

    #[test]
    fn a_failed_refresh_is_tried_again_at_the_next_poll() {
        let t0 = Instant::now();
        let mut b = Backlog::default();
        b.add(BTreeMap::from([((1, 1), touch(10, 5))]));
        let due = b.due(t0);
        b.retry(due);
        assert_eq!(b.due(t0 + Duration::from_secs(1)).len(), 1);
    }
}
