//! Whole series with dates: daily and monthly CSV in, dated forecasts out, deterministic.

use chrono::NaiveDate;
use ppe_domain::forecast::{DateStep, forecast_many, long_csv::parse_long_csv};

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn monthly_csv() -> String {
    // Four years of month starts with a yearly pattern, for two series (one id quoted).
    let mut text = String::from("unique_id,ds,y\n");
    for id in ["\"Oslo, nursing home|FFP2\"", "depot|gloves"] {
        for k in 0..48u32 {
            let (y, m) = (2020 + (k / 12) as i32, k % 12 + 1);
            let v = 100.0 + 30.0 * f64::from(((m + 2) % 12) / 6) + f64::from(k % 5);
            text.push_str(&format!("{id},{y:04}-{m:02}-01,{v}\n"));
        }
    }
    text
}

#[test]
fn monthly_series_get_the_next_month_starts_and_a_backtest() {
    let series = parse_long_csv(&monthly_csv()).unwrap();
    assert_eq!(series.len(), 2);
    assert_eq!(series[0].id, "Oslo, nursing home|FFP2");
    assert!(
        series
            .iter()
            .all(|s| s.step == DateStep::MonthStart && s.values.len() == 48)
    );
    let fcs = forecast_many(&series, 12, 12, &[0.1, 0.5, 0.9]);
    for fc in &fcs {
        assert_eq!(fc.dates.first(), Some(&date("2024-01-01")));
        assert_eq!(fc.dates.last(), Some(&date("2024-12-01")));
        assert!(fc.backtest_rmsse.is_some());
        assert!(
            fc.point.iter().all(|&v| (90.0..=150.0).contains(&v)),
            "{:?}",
            fc.point
        );
    }
}

#[test]
fn daily_batch_is_deterministic_and_dated() {
    let mut text = String::from("unique_id,ds,y\n");
    for (i, id) in ["a", "b", "c"].iter().enumerate() {
        let start = date("2021-01-01");
        for t in 0..90u64 {
            let d = start + chrono::Days::new(t);
            // Demand of 3 on every fifth day, phase shifted per series.
            let phase = (t * 7 + i as u64) % 5;
            let v = if phase == 0 { 3.0 } else { 0.0 };
            // A stockout (empty y) in the middle of series b.
            let v = if *id == "b" && (40..47).contains(&t) {
                String::new()
            } else {
                v.to_string()
            };
            text.push_str(&format!("{id},{},{v}\n", d.format("%Y-%m-%d")));
        }
    }
    let series = parse_long_csv(&text).unwrap();
    assert_eq!(series[1].values.iter().filter(|v| v.is_none()).count(), 7);
    let a = forecast_many(&series, 28, 7, &[0.1, 0.5, 0.9]);
    let b = forecast_many(&series, 28, 7, &[0.1, 0.5, 0.9]);
    assert_eq!(a, b);
    for fc in &a {
        assert_eq!(fc.dates.len(), 28);
        assert_eq!(fc.dates[0], date("2021-04-01"));
        assert!(!fc.methods.is_empty());
        assert!(
            fc.quantile(0.9)
                .unwrap()
                .iter()
                .zip(&fc.point)
                .all(|(q, p)| q >= &0.0 && p.is_finite())
        );
    }
}
