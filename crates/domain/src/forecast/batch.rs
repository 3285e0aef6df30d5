//! Forecasting whole series with dates: one series ([`forecast_one`], for callers that
//! parallelise themselves) or many ([`forecast_many`]).

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{
    dates::{DateStep, next_dates},
    error_model::{ErrorModel, ErrorScaling, quantile_forecasts},
    method::Method,
    select::{SelectionConfig, select},
};

/// One demand series: `values[i]` is the demand on `step.advance(start, i)`; `None` marks a
/// censored (stocked-out) or unreported period.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub id: String,
    pub start: NaiveDate,
    pub step: DateStep,
    pub values: Vec<Option<f64>>,
}

impl Series {
    /// Date of the last value (the start for an empty series).
    pub fn last_date(&self) -> NaiveDate {
        let k = self.values.len().saturating_sub(1) as u32;
        self.step.advance(self.start, k).unwrap_or(self.start)
    }
}

/// Everything a forecast run needs besides the data.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ForecastConfig {
    pub horizon: usize,
    /// Season length in periods (7 for daily, 12 for monthly; ≤ 1 for none).
    pub season: usize,
    /// Quantile levels in (0, 1), e.g. `[0.1, 0.5, 0.9]`.
    pub levels: Vec<f64>,
    pub selection: SelectionConfig,
    pub scaling: ErrorScaling,
}

impl ForecastConfig {
    /// The default method pool, combination and error scaling.
    pub fn new(horizon: usize, season: usize, levels: &[f64]) -> Self {
        ForecastConfig {
            horizon,
            season,
            levels: levels.to_vec(),
            selection: SelectionConfig::default(),
            scaling: ErrorScaling::Level,
        }
    }
}

/// Forecast of one series.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeriesForecast {
    pub id: String,
    /// The `horizon` dates after the last observation.
    pub dates: Vec<NaiveDate>,
    /// Point forecast (mean demand) per date, ≥ 0.
    pub point: Vec<f64>,
    /// Quantile levels, as configured.
    pub levels: Vec<f64>,
    /// `quantiles[i][t]`: the `levels[i]` quantile of demand on `dates[t]`; ≥ 0, non-crossing.
    pub quantiles: Vec<Vec<f64>>,
    /// Methods combined into `point`, best first.
    pub methods: Vec<Method>,
    /// Whether a multiplicative season profile (e.g. weekdays) was laid over the combination.
    pub season_profile: bool,
    /// RMSSE of the combination in the rolling-origin backtest, when the history allowed one.
    pub backtest_rmsse: Option<f64>,
    /// Backtest errors, for quantiles at other levels and for simulating cumulative demand.
    pub errors: ErrorModel,
}

impl SeriesForecast {
    /// Mean forecast demand per period over the horizon: the burn rate for the plain
    /// `DoS = on_hand / daily_rate` (the CDC PPE burn-rate calculator). Use [`super::CumulativeDemand`] for its quantiles.
    pub fn mean_rate(&self) -> f64 {
        if self.point.is_empty() {
            0.0
        } else {
            self.point.iter().sum::<f64>() / self.point.len() as f64
        }
    }

    /// Quantiles of demand on each date at other levels than the stored ones (same
    /// construction: point + backtest error quantile, clamped at 0, non-crossing).
    pub fn quantiles_at(&self, levels: &[f64]) -> Vec<Vec<f64>> {
        quantile_forecasts(&self.point, &self.errors, levels)
    }

    /// The quantile path at `level`, if it was requested.
    pub fn quantile(&self, level: f64) -> Option<&[f64]> {
        self.levels
            .iter()
            .position(|&l| (l - level).abs() < 1e-9)
            .map(|i| self.quantiles[i].as_slice())
    }
}

/// Forecast without dates: point, quantiles and the selection details for a bare value slice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ValuesForecast {
    pub point: Vec<f64>,
    pub quantiles: Vec<Vec<f64>>,
    pub methods: Vec<Method>,
    pub season_profile: bool,
    pub backtest_rmsse: Option<f64>,
    pub errors: ErrorModel,
}

/// Forecasts the values of one series (no dates needed).
pub fn forecast_values(y: &[Option<f64>], cfg: &ForecastConfig) -> ValuesForecast {
    let sel = select(y, cfg.season, cfg.horizon, &cfg.selection);
    let errors =
        ErrorModel::from_backtest(y, &sel.plan, &sel.origin_forecasts, &sel.point, cfg.scaling);
    let mut point = sel.point;
    point.truncate(cfg.horizon);
    let quantiles = quantile_forecasts(&point, &errors, &cfg.levels);
    ValuesForecast {
        point,
        quantiles,
        methods: sel.methods,
        season_profile: sel.season_profile,
        backtest_rmsse: sel.backtest_rmsse,
        errors,
    }
}

/// Forecasts one series.
pub fn forecast_one(series: &Series, cfg: &ForecastConfig) -> SeriesForecast {
    let v = forecast_values(&series.values, cfg);
    SeriesForecast {
        id: series.id.clone(),
        dates: next_dates(series.last_date(), series.step, cfg.horizon),
        point: v.point,
        levels: cfg.levels.clone(),
        quantiles: v.quantiles,
        methods: v.methods,
        season_profile: v.season_profile,
        backtest_rmsse: v.backtest_rmsse,
        errors: v.errors,
    }
}

/// Forecasts many series sequentially with the default configuration.
pub fn forecast_many(
    series: &[Series],
    horizon: usize,
    season: usize,
    levels: &[f64],
) -> Vec<SeriesForecast> {
    forecast_many_with(series, &ForecastConfig::new(horizon, season, levels))
}

/// Forecasts many series sequentially with a given configuration.
pub fn forecast_many_with(series: &[Series], cfg: &ForecastConfig) -> Vec<SeriesForecast> {
    series.iter().map(|s| forecast_one(s, cfg)).collect()
}
