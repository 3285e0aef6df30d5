//! Demand forecasting for daily (or monthly) consumption series whose stockout days are censored:
//! classic and intermittent-demand methods, per-series choice by rolling-origin backtest,
//! calibrated quantiles and simulated cumulative demand for days of supply / stockout risk.
//!
//! Series are `&[Option<f64>]`: `None` marks a censored day (stock was zero, so demand is
//! unknown) or a missing report. Methods skip such days instead of reading them as zero demand.

pub mod aggregation;
pub mod backtest;
pub mod baseline;
pub mod batch;
pub mod croston;
pub mod cumulative;
pub mod dates;
pub mod error_model;
pub mod holt;
pub mod long_csv;
pub mod method;
pub mod optimize;
pub mod seasonal_profile;
pub mod select;
pub mod ses;

pub use batch::{
    ForecastConfig, Series, SeriesForecast, forecast_many, forecast_many_with, forecast_one,
};
pub use cumulative::CumulativeDemand;
pub use dates::{DateStep, next_dates};
pub use method::Method;

/// Builds the `Option` form from values plus a censored mask (true = stock was zero that day).
pub fn with_censoring(values: &[f64], censored: &[bool]) -> Vec<Option<f64>> {
    values
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            if censored.get(i).copied().unwrap_or(false) {
                None
            } else {
                Some(v)
            }
        })
        .collect()
}
