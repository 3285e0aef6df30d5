//! Cumulative demand simulation: deterministic, consistent with the point forecast, usable for
//! stockout probability and days of supply.

use ppe_domain::forecast::{
    CumulativeDemand, ForecastConfig, Series,
    cumulative::{cumulative_demand_quantiles, stockout_probability},
    dates::DateStep,
    forecast_one,
};

fn series(values: Vec<Option<f64>>) -> Series {
    Series {
        id: "unit|gloves".into(),
        start: chrono::NaiveDate::from_ymd_opt(2021, 1, 1).unwrap(),
        step: DateStep::Day,
        values,
    }
}

fn noisy() -> Series {
    // Deterministic "noise": a fixed irregular pattern around 10.
    let pattern = [8.0, 13.0, 9.0, 11.0, 7.0, 14.0, 10.0, 12.0, 6.0, 10.0, 11.0];
    series((0..150).map(|t| Some(pattern[(t * 7) % 11])).collect())
}

#[test]
fn constant_demand_accumulates_exactly() {
    let fc = forecast_one(
        &series(vec![Some(2.0); 60]),
        &ForecastConfig::new(14, 7, &[0.5]),
    );
    let q = cumulative_demand_quantiles(&fc, 10, &[0.1, 0.5, 0.9], 200, 1);
    for v in q {
        assert!((v - 20.0).abs() < 1e-9, "{v}");
    }
    assert_eq!(stockout_probability(&fc, 19.0, 10, 200, 1), 1.0);
    assert_eq!(stockout_probability(&fc, 21.0, 10, 200, 1), 0.0);
    let sim = CumulativeDemand::simulate(&fc, 30, 100, 1);
    // 25 on hand at 2 a day lasts 12.5 days, also beyond the 14-day horizon (carried forward).
    let dos = sim.days_of_supply_quantiles(25.0, &[0.5]);
    assert!((dos[0] - 12.5).abs() < 1e-9, "{dos:?}");
    assert_eq!(sim.days_of_supply_quantiles(1000.0, &[0.5]), vec![30.0]);
}

#[test]
fn simulation_is_deterministic_and_monotone() {
    let fc = forecast_one(&noisy(), &ForecastConfig::new(28, 7, &[0.1, 0.5, 0.9]));
    let a = CumulativeDemand::simulate(&fc, 28, 500, 42);
    let b = CumulativeDemand::simulate(&fc, 28, 500, 42);
    assert_eq!(a, b);
    let q7 = a.quantiles(7, &[0.1, 0.5, 0.9]);
    let q28 = a.quantiles(28, &[0.1, 0.5, 0.9]);
    assert!(q7[0] <= q7[1] && q7[1] <= q7[2], "{q7:?}");
    assert!(q28.iter().zip(&q7).all(|(l, s)| l >= s));
    // Median of 28 days near 28 × the mean daily forecast.
    let mean_total: f64 = fc.point.iter().sum();
    assert!(
        (q28[1] - mean_total).abs() < 0.1 * mean_total,
        "{q28:?} vs {mean_total}"
    );
    // The spread is real but narrower than the daily bands summed.
    let band_sum: f64 = (0..28)
        .map(|t| fc.quantiles[2][t] - fc.quantiles[0][t])
        .sum();
    assert!(q28[2] > q28[0] && q28[2] - q28[0] < band_sum);
    let p_low = a.stockout_probability(q28[0], 28);
    let p_high = a.stockout_probability(q28[2], 28);
    assert!(p_low > p_high && (0.85..=0.95).contains(&p_low) && (0.05..=0.15).contains(&p_high));
    let dos = a.days_of_supply_quantiles(100.0, &[0.1, 0.5, 0.9]);
    assert!(
        dos[0] <= dos[1] && dos[1] <= dos[2] && (8.0..=12.0).contains(&dos[1]),
        "{dos:?}"
    );
}
