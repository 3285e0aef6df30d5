//! Calendar steps of a series (daily or month-start monthly) and the dates a forecast covers.

use chrono::{Datelike, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// The spacing of a series' dates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DateStep {
    Day,
    /// First day of each month.
    MonthStart,
}

impl DateStep {
    /// `date` moved `k` steps forward.
    pub fn advance(self, date: NaiveDate, k: u32) -> Option<NaiveDate> {
        match self {
            DateStep::Day => date.checked_add_days(chrono::Days::new(u64::from(k))),
            DateStep::MonthStart => date.with_day(1)?.checked_add_months(Months::new(k)),
        }
    }

    /// Steps from `a` to `b` (b after a), `None` when `b` is not on the step grid of `a`.
    pub fn steps_between(self, a: NaiveDate, b: NaiveDate) -> Option<usize> {
        match self {
            DateStep::Day => usize::try_from((b - a).num_days()).ok(),
            DateStep::MonthStart => {
                if a.day() != 1 || b.day() != 1 {
                    return None;
                }
                let months = (b.year() - a.year()) * 12 + b.month() as i32 - a.month() as i32;
                usize::try_from(months).ok()
            }
        }
    }
}

/// The step a sorted, duplicate-free list of dates uses: month starts when every date is the
/// first of a month and consecutive dates are at least a month apart, else days. A single
/// date is ambiguous (`None`) unless it is not a month start.
pub fn detect_step(dates: &[NaiveDate]) -> Option<DateStep> {
    if dates.iter().any(|d| d.day() != 1) {
        return Some(DateStep::Day);
    }
    if dates.len() < 2 {
        return None;
    }
    let monthly = dates.windows(2).all(|w| (w[1] - w[0]).num_days() >= 28);
    Some(if monthly {
        DateStep::MonthStart
    } else {
        DateStep::Day
    })
}

/// The `horizon` dates after `last`: the next days, or the next month starts.
pub fn next_dates(last: NaiveDate, step: DateStep, horizon: usize) -> Vec<NaiveDate> {
    (1..=horizon as u32)
        .filter_map(|k| step.advance(last, k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
    }

    #[test]
    fn next_days_and_month_starts() {
        assert_eq!(
            next_dates(d("2021-02-27"), DateStep::Day, 3),
            vec![d("2021-02-28"), d("2021-03-01"), d("2021-03-02")]
        );
        assert_eq!(
            next_dates(d("2020-11-01"), DateStep::MonthStart, 3),
            vec![d("2020-12-01"), d("2021-01-01"), d("2021-02-01")]
        );
    }

    #[test]
    fn detects_steps() {
        assert_eq!(
            detect_step(&[d("2021-01-01"), d("2021-02-01")]),
            Some(DateStep::MonthStart)
        );
        assert_eq!(
            detect_step(&[d("2021-01-01"), d("2021-01-02")]),
            Some(DateStep::Day)
        );
        assert_eq!(detect_step(&[d("2021-01-05")]), Some(DateStep::Day));
        assert_eq!(detect_step(&[d("2021-01-01")]), None);
    }
}
