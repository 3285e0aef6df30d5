//! Automatic choice per series: backtest every candidate at a few rolling origins, rank them by
//! RMSSE and combine the best few (combinations are hard to beat on intermittent data:
//! Petropoulos & Kourentzes 2015; the M4/M5 findings).

use serde::{Deserialize, Serialize};

use super::{
    backtest::{self, Plan},
    method::Method,
    seasonal_profile,
};

/// How to turn the ranked candidates into one forecast.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Combine {
    /// The single best method.
    Best,
    /// Mean of the `k` best.
    MeanOfBest(usize),
    /// Median of the `k` best.
    MedianOfBest(usize),
    /// Mean of all candidates (no selection).
    MeanAll,
}

/// Candidate pool and backtest settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SelectionConfig {
    /// Candidate methods; the first one is used alone when the history is too short to
    /// backtest.
    pub candidates: Vec<Method>,
    pub max_origins: usize,
    pub combine: Combine,
    /// Season profile over the combined forecast, with its shrinkage (pseudo-demands).
    pub profile: ProfileUse,
}

/// Whether to lay a multiplicative season profile over the combined forecast.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProfileUse {
    Never,
    Always {
        shrink: f64,
    },
    /// Only when it lowers the backtest RMSSE of the series.
    IfBetter {
        shrink: f64,
    },
}

impl Default for SelectionConfig {
    fn default() -> Self {
        SelectionConfig {
            candidates: vec![
                Method::Ses,
                Method::Croston,
                Method::Sba,
                Method::Tsb,
                Method::Adida,
                Method::Imapa,
                Method::HoltWinters,
                Method::MovingAverage,
            ],
            max_origins: 3,
            combine: Combine::MeanOfBest(3),
            profile: ProfileUse::IfBetter { shrink: 5.0 },
        }
    }
}

/// Outcome for one series.
#[derive(Clone, Debug, PartialEq)]
pub struct Selection {
    /// Methods combined, best first.
    pub methods: Vec<Method>,
    /// Combined forecast after the whole series, `max(h, window)` long.
    pub point: Vec<f64>,
    /// Combined forecasts at each backtest origin.
    pub origin_forecasts: Vec<Vec<f64>>,
    pub plan: Plan,
    /// Whether the season profile was laid over the combination.
    pub season_profile: bool,
    /// Backtest RMSSE of the combination (None when no origin fits in the history).
    pub backtest_rmsse: Option<f64>,
}

fn combine_steps(members: &[&Vec<f64>], how: Combine) -> Vec<f64> {
    let len = members.first().map_or(0, |m| m.len());
    let mut buf = Vec::with_capacity(members.len());
    (0..len)
        .map(|t| {
            buf.clear();
            buf.extend(members.iter().map(|m| m[t]));
            match how {
                Combine::MedianOfBest(_) => {
                    buf.sort_by(f64::total_cmp);
                    let k = buf.len();
                    if k % 2 == 1 {
                        buf[k / 2]
                    } else {
                        0.5 * (buf[k / 2 - 1] + buf[k / 2])
                    }
                }
                _ => buf.iter().sum::<f64>() / buf.len() as f64,
            }
        })
        .collect()
}

/// Backtests the candidates on `y` and returns the combined forecast.
pub fn select(
    y: &[Option<f64>],
    season: usize,
    horizon: usize,
    cfg: &SelectionConfig,
) -> Selection {
    let plan = backtest::plan(y.len(), horizon, season, cfg.max_origins);
    let len = horizon.max(plan.window);
    let scales = backtest::origin_scales(y, &plan);
    let mut all_origins = plan.origins.clone();
    all_origins.push(y.len());
    let candidates: &[Method] = if cfg.candidates.is_empty() {
        &[Method::Ses]
    } else {
        &cfg.candidates
    };
    // (score, candidate index, forecasts at origins then at the end)
    let mut runs: Vec<(f64, usize, Vec<Vec<f64>>)> = candidates
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let f = m.forecast_origins(y, season, &all_origins, len);
            let score = backtest::rmsse(y, &plan, &scales, &f).unwrap_or(f64::INFINITY);
            (score, i, f)
        })
        .collect();
    let k = match cfg.combine {
        Combine::Best => 1,
        Combine::MeanOfBest(k) | Combine::MedianOfBest(k) => k.max(1),
        Combine::MeanAll => runs.len(),
    };
    // Without any backtest every score is infinite and the order stays the configured one;
    // then only the first candidate is used (SES by default: on a handful of points an
    // adaptive level beats averaging in intermittent models that have seen two demands).
    let k = if plan.origins.is_empty() { 1 } else { k };
    runs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    runs.truncate(k);
    let n_out = all_origins.len();
    let combined: Vec<Vec<f64>> = (0..n_out)
        .map(|j| {
            let members: Vec<&Vec<f64>> = runs.iter().map(|r| &r.2[j]).collect();
            combine_steps(&members, cfg.combine)
                .into_iter()
                .map(|v| v.max(0.0))
                .collect()
        })
        .collect();
    let mut origin_forecasts = combined;
    let mut backtest_rmsse =
        backtest::rmsse(y, &plan, &scales, &origin_forecasts[..plan.origins.len()]);
    let (shrink, always) = match cfg.profile {
        ProfileUse::Never => (None, false),
        ProfileUse::Always { shrink } => (Some(shrink), true),
        ProfileUse::IfBetter { shrink } => (Some(shrink), false),
    };
    let mut season_profile = false;
    if let Some(shrink) = shrink {
        let adjusted: Vec<Vec<f64>> = all_origins
            .iter()
            .zip(&origin_forecasts)
            .map(|(&o, f)| seasonal_profile::apply(y, o, season, shrink, f))
            .collect();
        let score = backtest::rmsse(y, &plan, &scales, &adjusted[..plan.origins.len()]);
        let better = match (score, backtest_rmsse) {
            (Some(a), Some(b)) => a < b,
            _ => false,
        };
        if always || better {
            origin_forecasts = adjusted;
            backtest_rmsse = score;
            season_profile = true;
        }
    }
    let point = origin_forecasts.pop().unwrap_or_default();
    Selection {
        methods: runs.iter().map(|r| candidates[r.1]).collect(),
        point,
        origin_forecasts,
        plan,
        season_profile,
        backtest_rmsse,
    }
}
