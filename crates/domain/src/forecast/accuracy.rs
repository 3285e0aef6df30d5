//! How well the forecasting procedure did on a series' own recent past: the whole pipeline
//! (selection, combination, quantiles) is run on the history before the last `window` days and
//! scored on those days, out of sample. These are the numbers a user should read before
//! trusting a forecast; the in-sample backtest RMSSE that drove the selection is optimistic
//! by construction.

use serde::{Deserialize, Serialize};

use super::backtest::m5_scales;
use super::batch::{ForecastConfig, forecast_values};

/// Out-of-sample scores of one series (M5 conventions: errors scaled by the in-sample
/// one-step naive error from the first non-zero observation; censored days not scored).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HoldoutScores {
    /// Days held out (the most recent ones).
    pub window: usize,
    /// Days of the window that were observed (not censored) and scored.
    pub scored: usize,
    pub mase: Option<f64>,
    pub rmsse: Option<f64>,
    /// Share of scored days whose demand fell inside the outermost interval
    /// (between the lowest and highest configured quantile).
    pub coverage: Option<f64>,
    /// Nominal coverage of that interval (0.8 for q10–q90).
    pub nominal_coverage: f64,
}

/// Scores the forecast made `window` days before the end of `y`. `None` when the history
/// before the window is shorter than two seasons (nothing sensible to score).
pub fn holdout_scores(
    y: &[Option<f64>],
    window: usize,
    cfg: &ForecastConfig,
) -> Option<HoldoutScores> {
    let window = window.min(cfg.horizon.max(1));
    let n = y.len();
    if window == 0 || n < window + 2 * cfg.season.max(7) {
        return None;
    }
    let (train, test) = y.split_at(n - window);
    let mut fit_cfg = cfg.clone();
    fit_cfg.horizon = window;
    let fc = forecast_values(train, &fit_cfg);
    let (lo, hi) = outer_levels(&cfg.levels);
    let (mae_scale, mse_scale) = m5_scales(train);
    let (mut ae, mut se, mut inside, mut k) = (0.0, 0.0, 0usize, 0usize);
    for (t, v) in test.iter().enumerate() {
        let Some(v) = *v else { continue };
        let e = v - fc.point[t];
        ae += e.abs();
        se += e * e;
        if let (Some(lo), Some(hi)) = (lo, hi)
            && v >= fc.quantiles[lo][t]
            && v <= fc.quantiles[hi][t]
        {
            inside += 1;
        }
        k += 1;
    }
    let nominal = match (lo, hi) {
        (Some(lo), Some(hi)) => cfg.levels[hi] - cfg.levels[lo],
        _ => 0.0,
    };
    let per = |x: f64| x / k as f64;
    Some(HoldoutScores {
        window,
        scored: k,
        mase: (k > 0 && mae_scale > 0.0).then(|| per(ae) / mae_scale),
        rmsse: (k > 0 && mse_scale > 0.0).then(|| (per(se) / mse_scale).sqrt()),
        coverage: (k > 0 && lo.is_some() && lo != hi).then(|| per(inside as f64)),
        nominal_coverage: nominal,
    })
}

/// Indices of the lowest and highest configured levels.
fn outer_levels(levels: &[f64]) -> (Option<usize>, Option<usize>) {
    let by = |better: fn(f64, f64) -> bool| {
        (0..levels.len()).reduce(|a, b| if better(levels[b], levels[a]) { b } else { a })
    };
    (by(|x, y| x < y), by(|x, y| x > y))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> ForecastConfig {
        ForecastConfig::new(28, 7, &[0.1, 0.5, 0.9])
    }

    #[test]
    fn a_steady_weekly_pattern_scores_far_better_than_the_naive_scale() {
        // Weekdays 5, weekends 2: the one-step naive error is large, a weekly model's is not.
        let y: Vec<Option<f64>> = (0..126)
            .map(|i| Some(if i % 7 < 5 { 5.0 } else { 2.0 }))
            .collect();
        let s = holdout_scores(&y, 28, &cfg()).unwrap();
        assert_eq!((s.window, s.scored), (28, 28));
        assert!(s.mase.unwrap() < 0.5, "{s:?}");
        assert!(s.rmsse.unwrap() < 0.5, "{s:?}");
        assert!((s.nominal_coverage - 0.8).abs() < 1e-12);
    }

    #[test]
    fn censored_days_are_not_scored_and_short_histories_are_not_scored_at_all() {
        let mut y: Vec<Option<f64>> = (0..100).map(|i| Some(f64::from(i % 3))).collect();
        for v in &mut y[90..95] {
            *v = None;
        }
        let s = holdout_scores(&y, 28, &cfg()).unwrap();
        assert_eq!(s.scored, 23);
        assert!(s.coverage.unwrap() > 0.0);
        assert!(holdout_scores(&y[..30], 28, &cfg()).is_none());
    }

    #[test]
    fn a_level_shift_in_the_window_scores_worse_than_a_steady_series() {
        let steady: Vec<Option<f64>> = (0..120).map(|i| Some(10.0 + f64::from(i % 2))).collect();
        let mut shifted = steady.clone();
        for v in &mut shifted[100..] {
            *v = Some(30.0);
        }
        let a = holdout_scores(&steady, 28, &cfg()).unwrap();
        let b = holdout_scores(&shifted, 28, &cfg()).unwrap();
        assert!(b.mase.unwrap() > 3.0 * a.mase.unwrap(), "{a:?} {b:?}");
    }
}
