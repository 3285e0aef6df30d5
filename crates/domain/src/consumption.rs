//! Daily consumption of one item at one site, reconstructed from its ledger.
//! Reported use (issues) counts on its day. Use nobody reported shows up as a stock
//! count below the balance: `consumed = opening + received − transferred out −
//! discarded − closing count` (OpenLMIS, mSupply, the CDC burn-rate calculator), which
//! is exactly the negative count adjustment; it is spread evenly over the days since
//! the previous count and marked inferred. A count above the balance implies negative
//! use: a data error, flagged and never hidden. Days without stock are censored:
//! demand was unknown, not zero.

use crate::stock::MovementKind;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// One ledger movement of the series, with its local day.
#[derive(Debug, Clone, PartialEq)]
pub struct LedgerEvent {
    pub day: NaiveDate,
    pub kind: MovementKind,
    /// Signed change of the balance.
    pub delta: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DailyUse {
    pub day: NaiveDate,
    /// Base units used that day (fractional when an interval was spread).
    pub quantity: f64,
    /// Part of the day's use was spread from a count interval.
    pub inferred: bool,
    /// The site had no stock at the end of the day (or the count interval ended at
    /// zero): demand unknown.
    pub censored: bool,
    /// On hand at the end of the day, as the ledger knew it then.
    pub closing_balance: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "flag", rename_all = "snake_case")]
pub enum QualityFlag {
    /// A count found more than the ledger expected: use would be negative.
    NegativeImpliedUse { day: NaiveDate, quantity: i64 },
    /// Longer than the threshold without any count or reported use.
    LongGap {
        from: NaiveDate,
        to: NaiveDate,
        days: i64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsumptionSeries {
    pub days: Vec<DailyUse>,
    pub flags: Vec<QualityFlag>,
}

/// Days without a count or reported use after which a gap is flagged.
pub const LONG_GAP_DAYS: i64 = 14;

/// Rebuilds daily use from `events` (in ledger order) for every day from the first
/// event to `until` inclusive.
pub fn daily_use(events: &[LedgerEvent], until: NaiveDate) -> ConsumptionSeries {
    let Some(first) = events.first().map(|e| e.day) else {
        return ConsumptionSeries {
            days: vec![],
            flags: vec![],
        };
    };
    let n = ((until - first).num_days() + 1).max(0) as usize;
    let mut days: Vec<DailyUse> = (0..n)
        .map(|i| DailyUse {
            day: first + chrono::Duration::days(i as i64),
            quantity: 0.0,
            inferred: false,
            censored: false,
            closing_balance: 0,
        })
        .collect();
    let mut flags = Vec::new();
    let mut balance = 0i64;
    // Index of the day after the last count (or the first day): where spreading starts.
    let mut interval_start = 0usize;
    // Where the interval of today's first count started: a count of several lots records
    // one adjustment per lot, all closing the same interval.
    let mut counted_today_from: Option<(usize, usize)> = None;
    let mut last_evidence = 0usize;
    let mut counted_before = false;
    let mut ev = events.iter().peekable();
    for i in 0..n {
        let day = days[i].day;
        while let Some(e) = ev.next_if(|e| e.day <= day) {
            balance += e.delta;
            match e.kind {
                MovementKind::Issue => {
                    days[i].quantity += (-e.delta) as f64;
                    last_evidence = i;
                }
                MovementKind::CountAdjustment => {
                    let start = match counted_today_from {
                        Some((day_index, start)) if day_index == i => start,
                        _ => interval_start,
                    };
                    counted_today_from = Some((i, start));
                    if e.delta < 0 {
                        let span = (i + 1 - start) as f64;
                        for d in &mut days[start..=i] {
                            d.quantity += (-e.delta) as f64 / span;
                            d.inferred = true;
                        }
                    } else if e.delta > 0 && counted_before {
                        // An opening count is a starting point, not implied negative use.
                        flags.push(QualityFlag::NegativeImpliedUse {
                            day,
                            quantity: e.delta,
                        });
                    }
                    if balance == 0 {
                        // Ran out at some point in the interval: its use is a lower bound.
                        for d in &mut days[start..=i] {
                            d.censored = d.censored || d.inferred;
                        }
                    }
                    if i > last_evidence && (i - last_evidence) as i64 > LONG_GAP_DAYS {
                        flags.push(QualityFlag::LongGap {
                            from: days[last_evidence].day,
                            to: day,
                            days: (i - last_evidence) as i64,
                        });
                    }
                    last_evidence = i;
                    interval_start = i + 1;
                    counted_before = true;
                }
                _ => {}
            }
        }
        days[i].closing_balance = balance;
        if balance <= 0 {
            days[i].censored = true;
        }
    }
    ConsumptionSeries { days, flags }
}

/// The stockout-adjusted mean daily use (OpenLMIS/mSupply AMC): the use over the
/// uncensored days, `consumed × days / (days − stockout_days)` in effect.
pub fn adjusted_daily_rate(series: &ConsumptionSeries) -> Option<f64> {
    let open: Vec<&DailyUse> = series.days.iter().filter(|d| !d.censored).collect();
    if open.is_empty() {
        return None;
    }
    Some(open.iter().map(|d| d.quantity).sum::<f64>() / open.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn e(day: &str, kind: MovementKind, delta: i64) -> LedgerEvent {
        LedgerEvent {
            day: d(day),
            kind,
            delta,
        }
    }

    #[test]
    fn two_counts_with_a_delivery_between_give_the_formula() {
        // Opening count 100 on the 1st, 50 received on the 3rd, count of 90 on the 5th:
        // consumed = 100 + 50 − 90 = 60 over the 4 days after the opening count.
        let ev = [
            e("2026-03-01", MovementKind::CountAdjustment, 100),
            e("2026-03-03", MovementKind::TransferIn, 50),
            e("2026-03-05", MovementKind::CountAdjustment, -60),
        ];
        let s = daily_use(&ev, d("2026-03-05"));
        let q: Vec<f64> = s.days.iter().map(|x| x.quantity).collect();
        assert_eq!(q, [0.0, 15.0, 15.0, 15.0, 15.0]);
        assert!(s.days[1..].iter().all(|x| x.inferred && !x.censored));
        assert_eq!(s.days[4].closing_balance, 90);
        // The opening count is a starting point; a later count above the ledger is flagged.
        assert!(s.flags.is_empty());
        let mut more = ev.to_vec();
        more.push(e("2026-03-06", MovementKind::CountAdjustment, 5));
        let s = daily_use(&more, d("2026-03-06"));
        assert_eq!(
            s.flags,
            [QualityFlag::NegativeImpliedUse {
                day: d("2026-03-06"),
                quantity: 5
            }]
        );
    }

    #[test]
    fn a_count_of_several_lots_closes_one_interval() {
        // 100 counted, then 50 of another lot delivered; the count of 90 in all takes 50
        // from one lot and 10 from the other: 60 used over the 4 days.
        let ev = [
            e("2026-03-01", MovementKind::CountAdjustment, 100),
            e("2026-03-03", MovementKind::TransferIn, 50),
            e("2026-03-05", MovementKind::CountAdjustment, -50),
            e("2026-03-05", MovementKind::CountAdjustment, -10),
        ];
        let s = daily_use(&ev, d("2026-03-05"));
        let q: Vec<f64> = s.days.iter().map(|x| x.quantity).collect();
        assert_eq!(q, [0.0, 15.0, 15.0, 15.0, 15.0]);
    }

    #[test]
    fn reported_use_counts_on_its_day_and_empty_days_are_censored() {
        let ev = [
            e("2026-03-01", MovementKind::TransferIn, 10),
            e("2026-03-02", MovementKind::Issue, -4),
            e("2026-03-03", MovementKind::Issue, -6),
        ];
        let s = daily_use(&ev, d("2026-03-05"));
        let q: Vec<f64> = s.days.iter().map(|x| x.quantity).collect();
        assert_eq!(q, [0.0, 4.0, 6.0, 0.0, 0.0]);
        let c: Vec<bool> = s.days.iter().map(|x| x.censored).collect();
        assert_eq!(c, [false, false, true, true, true]);
        assert_eq!(adjusted_daily_rate(&s), Some(2.0));
    }

    #[test]
    fn an_interval_ending_at_zero_is_censored_and_long_gaps_are_flagged() {
        let ev = [
            e("2026-03-01", MovementKind::TransferIn, 40),
            e("2026-03-01", MovementKind::CountAdjustment, 0),
            e("2026-03-21", MovementKind::CountAdjustment, -40),
        ];
        let s = daily_use(&ev, d("2026-03-21"));
        assert!(s.days[1..].iter().all(|x| x.censored));
        assert!(matches!(s.flags[0], QualityFlag::LongGap { days: 20, .. }));
    }
}
