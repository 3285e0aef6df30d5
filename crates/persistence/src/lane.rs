//! Group-committing writer threads ("lanes"). A lane owns one write connection, takes
//! everything queued, runs it in one transaction, commits and only then answers.
//!
//! A lane heals: when a group fails, the connection is probed; a dead one is dropped
//! and a new one opened with backoff. While it has none, queued writes are answered
//! at once with "unavailable" (503 and `Retry-After`), never left waiting. A write
//! whose COMMIT was in flight when the connection died has an unknown outcome; it is
//! answered "unavailable" too, and the client's retry with the same Idempotency-Key
//! either finds the stored answer or writes it now, so nothing is applied twice.
//!
//! A group that loses a race to another process (deadlock, serialization failure) is
//! rolled back whole and run again after a random pause: retrying one write inside a
//! transaction that still holds the group's other locks would only deadlock again.
//! On PostgreSQL a group first takes an advisory lock per site it writes to, in one
//! order for every process, so groups of different processes queue for a site instead
//! of deadlocking over its rows.

use crate::catalogue::IdCache;
use crate::checkpoint::Checkpointer;
use crate::connection::{DbConnection, Target};
use crate::error::StoreError;
use crate::health::Health;
use crate::idempotency;
use crate::savepoint::Savepoints;
use diesel::Connection;
use diesel::connection::SimpleConnection;
use ppe_domain::stock::StockKey;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

/// What one run of a queued write came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Done,
    Refused,
    /// Lost a race to another transaction: the whole group must run again.
    LostRace,
}

/// A write queued for a group commit. It may run more than once: a group whose fast
/// pass fails runs again write by write, and a group that lost a race runs again whole.
pub(crate) trait QueuedWrite: Send {
    /// The sites whose stock the write may lock.
    fn sites(&self) -> &[String];
    /// The (site, item) stock a ledger command reads and writes through the ledger
    /// alone, when it may join a batched group (see `batch`); None otherwise.
    fn stock(&self) -> Option<&[(String, String)]>;
    /// Runs the write. With `savepoints`, the write runs in its own savepoint and is
    /// run again there when its idempotency key collided with a concurrent twin.
    fn run(&mut self, conn: &mut DbConnection, savepoints: Option<&mut Savepoints>) -> Outcome;
    /// Answers the caller once the group committed (or failed to).
    fn finish(self: Box<Self>, commit_failure: Option<StoreError>);
}

pub(crate) type Job = Box<dyn QueuedWrite>;

/// What a lane's queue carries.
pub(crate) enum Message {
    Write(Job),
    /// Commit and answer what came before, then close the connection and end.
    Stop,
}

struct Queued<T, F, R> {
    sites: Vec<String>,
    stock: Option<Vec<(String, String)>>,
    f: F,
    reply: R,
    ids: Arc<IdCache>,
    result: Option<Result<T, StoreError>>,
    /// Counts the write as queued until it is answered or dropped, whatever the path.
    _queued: crate::stats::Queued,
}

/// How many times a write runs in its savepoint when its key collided with a twin's.
const MAX_ATTEMPTS: u32 = 8;

impl<T, F, R> QueuedWrite for Queued<T, F, R>
where
    T: Send,
    F: FnMut(&mut DbConnection) -> Result<T, StoreError> + Send,
    R: FnOnce(Result<T, StoreError>) + Send,
{
    fn sites(&self) -> &[String] {
        &self.sites
    }

    fn stock(&self) -> Option<&[(String, String)]> {
        self.stock.as_deref()
    }

    fn run(&mut self, c: &mut DbConnection, savepoints: Option<&mut Savepoints>) -> Outcome {
        let result = match savepoints {
            None => (self.f)(c),
            Some(savepoints) => {
                savepoints.begin(c);
                let mut attempt = 1;
                loop {
                    let result = (self.f)(c);
                    if result.is_err() {
                        savepoints.rollback(c);
                    }
                    match result {
                        // A twin that committed first: the next run replays its answer.
                        Err(e)
                            if e.is_retryable() && !e.is_lost_race() && attempt < MAX_ATTEMPTS =>
                        {
                            attempt += 1
                        }
                        other => break other,
                    }
                }
            }
        };
        let outcome = match &result {
            Ok(_) => Outcome::Done,
            Err(e) if e.is_lost_race() => Outcome::LostRace,
            Err(_) => Outcome::Refused,
        };
        if outcome != Outcome::Done {
            self.ids.clear();
        }
        self.result = Some(result);
        outcome
    }

    fn finish(self: Box<Self>, commit_failure: Option<StoreError>) {
        let result = self
            .result
            .unwrap_or_else(|| Err(StoreError::Unavailable("the write did not run".into())));
        (self.reply)(match commit_failure {
            None => result,
            Some(e) => Err(e),
        })
    }
}

/// Puts `f` on a lane's queue; `reply` gets its result once the group committed.
pub(crate) fn enqueue<T, F>(
    q: &Sender<Message>,
    ids: &Arc<IdCache>,
    sites: &[&str],
    stock: Option<Vec<(String, String)>>,
    f: F,
    reply: impl FnOnce(Result<T, StoreError>) + Send + 'static,
) -> Result<(), StoreError>
where
    T: Send + 'static,
    F: FnMut(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
{
    let job: Job = Box::new(Queued {
        sites: sites.iter().map(|s| (*s).to_owned()).collect(),
        stock,
        f,
        reply,
        ids: Arc::clone(ids),
        result: None,
        _queued: crate::stats::Queued::new(),
    });
    q.send(Message::Write(job))
        .map_err(|_| StoreError::Unavailable("the writer stopped".into()))
}

/// 64-bit FNV-1a of a site code: the same in every process and every run, which both
/// the lane choice and the cross-process lock order rely on.
fn fnv1a(site: &str) -> u64 {
    site.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// The lane of a site, so one site always lands on one writer.
pub(crate) fn lane_of(name: &str, lanes: usize) -> usize {
    (fnv1a(name) % lanes as u64) as usize
}

/// Most writes one group commit holds; bounds the latency a write can add to others.
const MAX_GROUP: usize = 128;
/// How often a group that keeps losing races runs again before it is answered 503.
const MAX_GROUP_ATTEMPTS: u32 = 6;
/// Reconnection backoff: first retry at once, then doubling up to the cap, which is
/// the `Retry-After` clients are told.
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = crate::health::RETRY_AFTER;

/// A lane's connection, replaced when it dies (PostgreSQL; SQLite's file does not go
/// away under a running process, so its writer never reconnects).
pub(crate) struct LaneConnection {
    name: String,
    conn: Option<DbConnection>,
    reconnect: Option<Target>,
    health: Arc<Health>,
    next_attempt: Instant,
    backoff: Duration,
}

impl LaneConnection {
    pub(crate) fn new(
        name: String,
        mut conn: DbConnection,
        reconnect: Option<Target>,
        health: Arc<Health>,
    ) -> Self {
        point_plans(&mut conn);
        LaneConnection {
            name,
            conn: Some(conn),
            reconnect,
            health,
            next_attempt: Instant::now(),
            backoff: MIN_BACKOFF,
        }
    }

    /// The live connection, or a new one when the last died and the backoff allows.
    fn get(&mut self) -> Option<&mut DbConnection> {
        if self.conn.is_none() && Instant::now() >= self.next_attempt {
            let target = self.reconnect.as_ref()?;
            match target.connect() {
                Ok(mut c) => {
                    point_plans(&mut c);
                    log::info!("{}: connected to the database again", self.name);
                    self.conn = Some(c);
                    self.backoff = MIN_BACKOFF;
                    self.health.lane_up();
                }
                Err(e) => {
                    log::warn!(
                        "{}: reconnecting (next try in {:?}): {e}",
                        self.name,
                        self.backoff
                    );
                    self.next_attempt = Instant::now() + self.backoff;
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
        self.conn.as_mut()
    }

    /// After a failure: keeps the connection if it still answers, else drops it.
    fn probe(&mut self) {
        let Some(c) = self.conn.as_mut() else { return };
        if self.reconnect.is_none() {
            return;
        }
        let alive =
            !diesel::r2d2::R2D2Connection::is_broken(c) && c.batch_execute("SELECT 1").is_ok();
        if !alive {
            log::warn!("{}: the database connection is gone", self.name);
            self.conn = None;
            self.next_attempt = Instant::now();
            self.health.lane_down();
        }
    }

    /// The next job; while disconnected, wakes up to reconnect even when idle, so
    /// that readiness comes back without traffic. None when the queue is closed.
    fn next_job(&mut self, jobs: &Receiver<Message>) -> Option<Message> {
        loop {
            if self.conn.is_some() || self.reconnect.is_none() {
                return jobs.recv().ok();
            }
            match jobs.recv_timeout(self.next_attempt.saturating_duration_since(Instant::now())) {
                Ok(job) => return Some(job),
                Err(RecvTimeoutError::Disconnected) => return None,
                Err(RecvTimeoutError::Timeout) => {
                    self.get();
                }
            }
        }
    }
}

/// PostgreSQL: a lane only reads and writes rows by key, and its batched statements
/// join arrays of keys to tables. Those arrays are parameters, so a prepared plan cannot
/// know their length; with a small table the planner then prefers hashing the whole
/// table to a few index look-ups, and reads every row of `balances` per group. Off
/// hash and merge joins, it takes nested loops over the primary key, whatever the
/// arrays' length; so one generic plan serves every execution, and planning again per
/// execution (PostgreSQL's default for the first few) would only cost time. A failure
/// here only costs speed.
fn point_plans(conn: &mut DbConnection) {
    if let DbConnection::Postgresql(pg) = conn
        && let Err(e) = pg.batch_execute(
            "SET enable_hashjoin = off; SET enable_mergejoin = off; \
             SET plan_cache_mode = force_generic_plan",
        )
    {
        log::warn!("planning a lane's joins by key: {e}");
    }
}

/// Starts a lane thread; the lane stops on `Message::Stop` or when every sender is
/// dropped, after answering what was queued. The handle lets a shutdown wait for that.
pub(crate) fn spawn(
    conn: LaneConnection,
    ids: &Arc<IdCache>,
    checkpointer: Option<Checkpointer>,
) -> Result<(Sender<Message>, std::thread::JoinHandle<()>), std::io::Error> {
    let (tx, rx) = std::sync::mpsc::channel::<Message>();
    let ids = Arc::clone(ids);
    let handle = std::thread::Builder::new()
        .name(conn.name.clone())
        .spawn(move || run(conn, rx, ids, checkpointer))?;
    Ok((tx, handle))
}

/// The lane thread: take everything queued, run it in one transaction, commit, answer.
fn run(
    mut lane: LaneConnection,
    jobs: Receiver<Message>,
    ids: Arc<IdCache>,
    checkpointer: Option<Checkpointer>,
) {
    let mut stopping = false;
    while !stopping {
        let Some(Message::Write(first)) = lane.next_job(&jobs) else {
            break;
        };
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(Message::Write(j)) => group.push(j),
                Ok(Message::Stop) => {
                    stopping = true;
                    break;
                }
                Err(_) => break,
            }
        }
        let n = group.len();
        let Some(conn) = lane.get() else {
            for job in group {
                job.finish(Some(StoreError::Unavailable(
                    "the database is not reachable".into(),
                )));
            }
            continue;
        };
        let started = std::time::Instant::now();
        let failure = commit_group(conn, &ids, &mut group);
        crate::stats::committed(crate::stats::GroupCommit {
            writes: n,
            duration: started.elapsed(),
            failed: failure.is_some(),
        });
        if let Some(e) = &failure {
            log::error!("group commit failed: {e}");
            ids.clear();
            lane.probe();
        }
        for job in group {
            job.finish(
                failure
                    .as_ref()
                    .map(|e| StoreError::Unavailable(format!("the group's commit failed: {e}"))),
            );
        }
        if let (Some(c), Some(conn)) = (&checkpointer, lane.conn.as_mut()) {
            c.after_commit(conn);
        }
    }
    if let (Some(c), Some(conn)) = (&checkpointer, lane.conn.as_mut()) {
        c.on_close(conn);
    }
    log::debug!("{} stopped", lane.name);
}

/// Commits `group`: first in one fast pass; when that failed, write by write in
/// savepoints, the whole group again while it loses races.
fn commit_group(
    conn: &mut DbConnection,
    ids: &IdCache,
    group: &mut [Job],
) -> Option<diesel::result::Error> {
    let pg = matches!(conn, DbConnection::Postgresql(_));
    // SQLite has one writer: nothing to order.
    let site_locks = if pg { site_locks(group) } else { Vec::new() };
    if fast_pass(conn, ids, group, &site_locks) {
        return None;
    }
    let mut attempt = 1;
    loop {
        let mut lost_race = false;
        let committed = conn.transaction(|c| {
            lock_sites(c, &site_locks)?;
            let mut savepoints = Savepoints::default();
            for job in group.iter_mut() {
                if job.run(c, Some(&mut savepoints)) == Outcome::LostRace {
                    lost_race = true;
                    break;
                }
            }
            if lost_race || savepoints.broken() {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            Ok(())
        });
        match committed {
            Ok(()) => return None,
            Err(e)
                if (lost_race || crate::error::lost_race(&e)) && attempt < MAX_GROUP_ATTEMPTS =>
            {
                log::debug!("group lost a race (attempt {attempt}); runs again whole");
                std::thread::sleep(jitter(attempt));
                attempt += 1;
            }
            Err(e) => return Some(e),
        }
    }
}

/// The advisory-lock class of site locks ("PPE" and 1), beside keys of other uses.
pub(crate) const SITE_LOCK_CLASS: i32 = 0x5050_4501;

/// The site locks a group takes on PostgreSQL, in the one order every process uses:
/// ascending key, no repeats. Row locks on a site's stock are then only ever taken
/// by a transaction holding the site's lock, so groups in different processes wait
/// for each other instead of deadlocking (which PostgreSQL would detect only after
/// `deadlock_timeout`, a second by default, and then abort one of them).
fn site_locks(group: &[Job]) -> Vec<i32> {
    let mut keys: Vec<i32> = group
        .iter()
        .flat_map(|job| job.sites())
        .map(|site| site_key(site))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys
}

/// A site's lock key: its hash folded to the 32 bits of an advisory-lock key. Two sites
/// sharing a key only share a lock.
pub(crate) fn site_key(site: &str) -> i32 {
    let h = fnv1a(site);
    ((h >> 32) ^ h) as u32 as i32
}

/// Takes the group's site locks, in order, until the transaction ends.
fn lock_sites(conn: &mut DbConnection, keys: &[i32]) -> diesel::QueryResult<()> {
    use crate::statements::{PgParam, PgStatement};
    use diesel::RunQueryDsl;
    match conn {
        DbConnection::Postgresql(pg) if !keys.is_empty() => PgStatement {
            // unnest yields the array in order, and each lock is taken as its row is.
            parts: &[
                "SELECT pg_advisory_xact_lock(",
                ", k) FROM unnest(",
                ") AS k",
            ],
            params: vec![PgParam::Int(SITE_LOCK_CLASS), PgParam::Ints(keys.to_vec())],
        }
        .execute(pg)
        .map(drop),
        _ => Ok(()),
    }
}

/// A random pause before a group runs again, growing with the attempt, so that two
/// processes that deadlocked do not meet again in step.
fn jitter(attempt: u32) -> Duration {
    use rand::Rng;
    Duration::from_micros(rand::rng().random_range(500..2_000 * u64::from(attempt)))
}

/// Runs and commits `group` without savepoints (two statements fewer per write), with
/// the idempotency keys of all its writes stored together at the end, and the ledger
/// commands of a group made only of them batched (see `batch`). False, and nothing
/// written, when any write failed: the group then runs again write by write, so that
/// one refused write does not take the others with it.
fn fast_pass(
    conn: &mut DbConnection,
    ids: &IdCache,
    group: &mut [Job],
    site_locks: &[i32],
) -> bool {
    let stock = batched_stock(conn, ids, group);
    let committed = conn.transaction(|c| {
        begin_group(c, site_locks, stock.as_ref())?;
        idempotency::collect_keys();
        let all_ran = group
            .iter_mut()
            .all(|job| job.run(c, None) == Outcome::Done);
        let keys = idempotency::take_deferred();
        if !all_ran {
            return Err(diesel::result::Error::RollbackTransaction);
        }
        crate::batch::finish(c, &keys)
    });
    // Whatever ended the transaction, the batch and the key collection end with it.
    crate::batch::end(committed.is_ok() && stock.is_some());
    idempotency::take_deferred();
    if let Err(e) = &committed {
        log::debug!("group runs again write by write after: {e}");
    }
    committed.is_ok()
}

/// A group's first statements: its site locks, then (when it is batched) the balances
/// of its `stock` keys locked and read, with its movement ids drawn. The site locks are
/// a statement of their own: under READ COMMITTED a statement reads the snapshot taken
/// when it started, so a read in the statement that waited for a site's lock would miss
/// the lots that the lock's previous holder committed meanwhile.
pub(crate) fn begin_group(
    c: &mut DbConnection,
    site_locks: &[i32],
    stock: Option<&(BTreeSet<StockKey>, usize)>,
) -> diesel::QueryResult<()> {
    lock_sites(c, site_locks)?;
    match stock {
        Some((keys, lines)) => crate::batch::start(c, keys, *lines),
        None => Ok(()),
    }
}

/// The stock keys of a group whose every write is a ledger command that may be
/// batched, and how many lines name them; None when one is not (the group then writes
/// one by one). A name that does not resolve is left out: its command is refused when
/// it runs.
fn batched_stock(
    conn: &mut DbConnection,
    ids: &IdCache,
    group: &[Job],
) -> Option<(BTreeSet<StockKey>, usize)> {
    let mut keys = BTreeSet::new();
    let mut lines = 0;
    for job in group {
        let stock = job.stock()?;
        lines += stock.len();
        for (site, item) in stock {
            if let (Ok((site, _)), Ok(item)) =
                (ids.site(conn, "site", site), ids.item(conn, "item", item))
            {
                keys.insert(StockKey { site, item });
            }
        }
    }
    Some((keys, lines))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn site_keys_are_stable_and_spread() {
        // The order of locks is the order of these keys in every process, so they must
        // not depend on anything but the code.
        assert_eq!(site_key("WH"), site_key("WH"));
        let keys: std::collections::BTreeSet<i32> =
            (0..1000).map(|i| site_key(&format!("NH-{i:03}"))).collect();
        assert_eq!(keys.len(), 1000);
    }
}
