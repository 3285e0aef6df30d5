//! Point methods: constants stay constant, Croston/SBA/TSB match hand arithmetic, censored days
//! are skipped rather than read as zero demand.

use ppe_domain::forecast::{
    ForecastConfig, Method,
    batch::forecast_values,
    croston::{Variant, croston_with, tsb_with},
};

fn observed(v: &[f64]) -> Vec<Option<f64>> {
    v.iter().map(|&x| Some(x)).collect()
}

fn assert_close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b}");
}

#[test]
fn every_method_forecasts_a_constant_as_that_constant() {
    let y = observed(&[5.0; 60]);
    for m in Method::ALL {
        let f = m.forecast(&y, 7, 10);
        assert_eq!(f.len(), 10, "{}", m.name());
        for v in f {
            assert_close(v, 5.0, 1e-9);
        }
    }
}

#[test]
fn every_method_ignores_censored_days_in_a_constant_series() {
    let mut y = observed(&[5.0; 60]);
    for t in [3, 4, 20, 21, 22, 58] {
        y[t] = None;
    }
    for m in Method::ALL {
        for v in m.forecast(&y, 7, 10) {
            assert_close(v, 5.0, 1e-9);
        }
    }
}

#[test]
fn the_automatic_forecast_of_a_constant_is_that_constant_with_a_point_interval() {
    let y = observed(&[3.0; 90]);
    let fc = forecast_values(&y, &ForecastConfig::new(14, 7, &[0.1, 0.5, 0.9]));
    for t in 0..14 {
        assert_close(fc.point[t], 3.0, 1e-9);
        for q in &fc.quantiles {
            assert_close(q[t], 3.0, 1e-9);
        }
    }
}

// Hand computation on y = 0, 3, 0, 0, 2, 0, 4 (demands at t = 1, 4, 6 with sizes 3, 2, 4 and
// intervals 2, 3, 2), size constant 0.1, interval/probability constant 0.2.
const Y: [f64; 7] = [0.0, 3.0, 0.0, 0.0, 2.0, 0.0, 4.0];

#[test]
fn croston_and_sba_match_hand_computation() {
    // Start z = 3, p = 2.
    // t=4: z = 3 + 0.1(2 − 3) = 2.9;      p = 2 + 0.2(3 − 2) = 2.2
    // t=6: z = 2.9 + 0.1(4 − 2.9) = 3.01; p = 2.2 + 0.2(2 − 2.2) = 2.16
    // Croston = 3.01 / 2.16 = 1.393518…;  SBA = (1 − 0.2/2) · 1.393518… = 1.254166…
    let y = observed(&Y);
    let c = croston_with(&y, Variant::Croston, 0.1, 0.2, &[7], 3);
    assert_close(c[0][0], 3.01 / 2.16, 1e-12);
    assert_close(c[0][0], 1.393_518_518_5, 1e-9);
    let s = croston_with(&y, Variant::Sba, 0.1, 0.2, &[7], 3);
    assert_close(s[0][2], 1.254_166_666_7, 1e-9);
    // At origin 5 only the first two demands are seen: 2.9 / 2.2.
    let early = croston_with(&y, Variant::Croston, 0.1, 0.2, &[5, 7], 1);
    assert_close(early[0][0], 2.9 / 2.2, 1e-12);
}

#[test]
fn tsb_matches_hand_computation() {
    // Start at the first demand (t=1): z = 3, p = 1/2 (its interval).
    // t=2 (0): p = 0.5 − 0.2·0.5 = 0.4
    // t=3 (0): p = 0.4 − 0.08 = 0.32
    // t=4 (2): p = 0.32 + 0.2(1 − 0.32) = 0.456;   z = 3 + 0.1(2 − 3) = 2.9
    // t=5 (0): p = 0.456 − 0.0912 = 0.3648
    // t=6 (4): p = 0.3648 + 0.2(1 − 0.3648) = 0.49184; z = 2.9 + 0.1(4 − 2.9) = 3.01
    // TSB = 3.01 · 0.49184 = 1.4804384
    let y = observed(&Y);
    let f = tsb_with(&y, 0.1, 0.2, &[7], 2);
    assert_close(f[0][0], 1.480_438_4, 1e-9);
}

#[test]
fn censored_days_do_not_lengthen_croston_intervals() {
    let plain = observed(&Y);
    let mut censored = plain.clone();
    censored.insert(2, None);
    censored.insert(3, None);
    let a = croston_with(&plain, Variant::Croston, 0.1, 0.2, &[plain.len()], 1);
    let b = croston_with(&censored, Variant::Croston, 0.1, 0.2, &[censored.len()], 1);
    assert_close(a[0][0], b[0][0], 1e-12);
    let a = tsb_with(&plain, 0.1, 0.2, &[plain.len()], 1);
    let b = tsb_with(&censored, 0.1, 0.2, &[censored.len()], 1);
    assert_close(a[0][0], b[0][0], 1e-12);
}

/// Ten a day with weekly wobble, then a week of stockout at the end.
fn stockout_series(censor: bool) -> Vec<Option<f64>> {
    let mut y: Vec<Option<f64>> = (0..120)
        .map(|t| Some(10.0 + [2.0, -1.0, 0.0, 1.0, -2.0, 1.0, -1.0][t % 7]))
        .collect();
    for v in y.iter_mut().skip(113) {
        *v = if censor { None } else { Some(0.0) };
    }
    y
}

#[test]
fn a_stockout_week_does_not_pull_the_forecast_to_zero() {
    let cfg = ForecastConfig::new(14, 7, &[0.1, 0.5, 0.9]);
    let censored = forecast_values(&stockout_series(true), &cfg);
    let mean = censored.point.iter().sum::<f64>() / 14.0;
    assert!((mean - 10.0).abs() < 1.0, "censored forecast {mean}");
    for m in Method::ALL {
        let f = m.forecast(&stockout_series(true), 7, 14);
        let mean = f.iter().sum::<f64>() / 14.0;
        // Naive methods repeat the last pre-stockout value (12 here); none drops toward zero.
        assert!((mean - 10.0).abs() <= 2.0, "{}: {mean}", m.name());
    }
    // Reading the same week as zero demand drags the forecast down.
    let zeros = forecast_values(&stockout_series(false), &cfg);
    let zmean = zeros.point.iter().sum::<f64>() / 14.0;
    assert!(
        zmean < mean - 1.0,
        "zero-read forecast {zmean} vs censored {mean}"
    );
}

#[test]
fn a_mid_series_stockout_is_bridged() {
    let mut y = observed(&[4.0; 100]);
    for v in &mut y[40..54] {
        *v = None;
    }
    let fc = forecast_values(&y, &ForecastConfig::new(7, 7, &[0.5]));
    for v in fc.point {
        assert_close(v, 4.0, 1e-9);
    }
}

#[test]
fn intermittent_forecast_is_near_the_demand_rate() {
    // One demand of 7 every 7 days: rate 1 a day.
    let y: Vec<Option<f64>> = (0..140)
        .map(|t| Some(if t % 7 == 6 { 7.0 } else { 0.0 }))
        .collect();
    for m in [
        Method::Croston,
        Method::Tsb,
        Method::Adida,
        Method::Imapa,
        Method::Ses,
    ] {
        let f = m.forecast(&y, 7, 7);
        let mean = f.iter().sum::<f64>() / 7.0;
        assert!((mean - 1.0).abs() < 0.35, "{}: {mean}", m.name());
    }
    // Fixed intervals: nothing for SBA to correct.
    assert_close(
        Method::Sba.forecast(&y, 7, 1)[0],
        Method::Croston.forecast(&y, 7, 1)[0],
        1e-12,
    );
}

#[test]
fn empty_and_all_censored_series_forecast_zero() {
    let cfg = ForecastConfig::new(5, 7, &[0.1, 0.9]);
    for y in [vec![], vec![None; 30]] {
        let fc = forecast_values(&y, &cfg);
        assert_eq!(fc.point, vec![0.0; 5]);
        assert!(fc.quantiles.iter().flatten().all(|&v| v == 0.0));
    }
}
