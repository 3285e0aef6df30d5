//! Forecast-error distribution of one series, learnt from its rolling-origin backtest: gives
//! calibrated quantiles around the point forecast and residual paths for simulation.

use serde::{Deserialize, Serialize};

use super::backtest::Plan;

/// How backtest errors carry over to the final forecast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorScaling {
    /// Errors are used as they are (absolute units).
    Absolute,
    /// Errors are divided by the mean forecast of their origin and multiplied by the mean of
    /// the final forecast, so a series whose level has fallen gets narrower intervals.
    Level,
}

/// Backtest errors (actual − forecast) of one series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorModel {
    /// One residual path per backtest origin, in time order, censored days left out; already
    /// scaled to the final forecast's units.
    pub paths: Vec<Vec<f64>>,
}

/// Floor of the level used for [`ErrorScaling::Level`], as a share of the observed mean, so that
/// a forecast that has decayed to nothing keeps some spread.
const LEVEL_FLOOR: f64 = 0.25;

impl ErrorModel {
    pub fn from_paths(paths: Vec<Vec<f64>>) -> Self {
        ErrorModel { paths }
    }

    /// Residuals of the combined backtest forecasts; without a backtest, a plain, wide
    /// fallback from the history itself.
    pub fn from_backtest(
        y: &[Option<f64>],
        plan: &Plan,
        origin_forecasts: &[Vec<f64>],
        final_point: &[f64],
        scaling: ErrorScaling,
    ) -> Self {
        let obs: Vec<f64> = y.iter().flatten().copied().collect();
        let obs_mean = if obs.is_empty() {
            0.0
        } else {
            obs.iter().sum::<f64>() / obs.len() as f64
        };
        if plan.origins.is_empty() {
            // Too short to backtest: deviations from the mean plus one-step naive changes, so
            // that a level shift in a short history widens the band instead of being ignored.
            let deviations = obs.iter().map(|v| v - obs_mean);
            let changes = obs.windows(2).flat_map(|w| [w[1] - w[0], w[0] - w[1]]);
            return Self::from_paths(vec![deviations.chain(changes).collect()]);
        }
        let floor = LEVEL_FLOOR * obs_mean;
        let level = |f: &[f64]| (f.iter().sum::<f64>() / f.len().max(1) as f64).max(floor);
        let final_level = level(&final_point[..plan.window.min(final_point.len())]);
        let paths = plan
            .origins
            .iter()
            .zip(origin_forecasts)
            .map(|(&o, f)| {
                let f = &f[..plan.window];
                let factor = match scaling {
                    ErrorScaling::Absolute => 1.0,
                    ErrorScaling::Level => {
                        let l = level(f);
                        if l > 0.0 { final_level / l } else { 1.0 }
                    }
                };
                y[o..(o + plan.window).min(y.len())]
                    .iter()
                    .zip(f)
                    .filter_map(|(v, f)| v.map(|v| (v - f) * factor))
                    .collect()
            })
            .collect();
        Self::from_paths(paths)
    }

    /// Empirical quantiles of the errors. Order statistic `τ(n + 1)` (Hyndman & Fan type 6),
    /// interpolated: the expected share of a *new* error below it is τ, as in split-conformal
    /// prediction, where the usual `τ(n − 1)` positions make bands too narrow for small n.
    pub fn quantiles(&self, taus: &[f64]) -> Vec<f64> {
        let mut sorted: Vec<f64> = self.paths.iter().flatten().copied().collect();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        taus.iter()
            .map(|&tau| {
                if n == 0 {
                    return 0.0;
                }
                let pos = (tau.clamp(0.0, 1.0) * (n + 1) as f64 - 1.0).clamp(0.0, (n - 1) as f64);
                let lo = pos.floor() as usize;
                let hi = (lo + 1).min(n - 1);
                let w = pos - lo as f64;
                sorted[lo] * (1.0 - w) + sorted[hi] * w
            })
            .collect()
    }

    /// One error quantile (see [`ErrorModel::quantiles`]).
    pub fn quantile(&self, tau: f64) -> f64 {
        self.quantiles(&[tau])[0]
    }

    pub fn is_empty(&self) -> bool {
        self.paths.iter().all(|p| p.is_empty())
    }
}

/// Quantile forecasts at `levels` (each in (0, 1)): point + error quantile, clamped at zero and
/// made monotone in the level, so they never cross whatever order `levels` come in.
pub fn quantile_forecasts(point: &[f64], errors: &ErrorModel, levels: &[f64]) -> Vec<Vec<f64>> {
    let mut order: Vec<usize> = (0..levels.len()).collect();
    order.sort_by(|&a, &b| levels[a].total_cmp(&levels[b]));
    let mut out = vec![Vec::new(); levels.len()];
    let e_all = errors.quantiles(levels);
    let mut prev: Option<usize> = None;
    for &i in &order {
        let e = e_all[i];
        let q: Vec<f64> = point
            .iter()
            .enumerate()
            .map(|(t, &p)| {
                let v = (p + e).max(0.0);
                prev.map_or(v, |j| v.max(out[j][t]))
            })
            .collect();
        out[i] = q;
        prev = Some(i);
    }
    out
}
