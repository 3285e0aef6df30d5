//! The menu of point-forecast methods and a uniform way to run any of them.

use serde::{Deserialize, Serialize};

use super::{aggregation, baseline, croston, holt, ses};

/// A point-forecast method. Every method fits its parameters on the series it is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Method {
    Naive,
    SeasonalNaive,
    MovingAverage,
    Ses,
    DampedHolt,
    HoltWinters,
    Croston,
    Sba,
    Tsb,
    Adida,
    Imapa,
}

impl Method {
    /// Every method, in a fixed order (also the tie-break order of the selection).
    pub const ALL: [Method; 11] = [
        Method::Ses,
        Method::Croston,
        Method::Sba,
        Method::Tsb,
        Method::Adida,
        Method::Imapa,
        Method::MovingAverage,
        Method::DampedHolt,
        Method::HoltWinters,
        Method::SeasonalNaive,
        Method::Naive,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Method::Naive => "naive",
            Method::SeasonalNaive => "seasonal_naive",
            Method::MovingAverage => "moving_average",
            Method::Ses => "ses",
            Method::DampedHolt => "damped_holt",
            Method::HoltWinters => "holt_winters",
            Method::Croston => "croston",
            Method::Sba => "sba",
            Method::Tsb => "tsb",
            Method::Adida => "adida",
            Method::Imapa => "imapa",
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Forecasts made at each origin `o` (ascending; the method sees `y[..o]` only), `h` steps
    /// each. Parameters are fitted once on all of `y` and reused at earlier origins, which keeps
    /// a backtest to one pass per method (the small look-ahead in the parameters is accepted).
    pub fn forecast_origins(
        self,
        y: &[Option<f64>],
        season: usize,
        origins: &[usize],
        h: usize,
    ) -> Vec<Vec<f64>> {
        match self {
            Method::Naive => baseline::naive_origins(y, origins, h),
            Method::SeasonalNaive => baseline::seasonal_naive_origins(y, season, origins, h),
            Method::MovingAverage => baseline::moving_average_origins(y, season, origins, h),
            Method::Ses => ses::forecast_origins(y, origins, h),
            Method::DampedHolt => holt::damped_holt_origins(y, origins, h),
            Method::HoltWinters => holt::holt_winters_origins(y, season, origins, h),
            Method::Croston => croston::croston_origins(y, croston::Variant::Croston, origins, h),
            Method::Sba => croston::croston_origins(y, croston::Variant::Sba, origins, h),
            Method::Tsb => croston::tsb_origins(y, origins, h),
            Method::Adida => aggregation::adida_origins(y, origins, h),
            Method::Imapa => aggregation::imapa_origins(y, origins, h),
        }
    }

    /// Forecast of the next `h` periods after `y`.
    pub fn forecast(self, y: &[Option<f64>], season: usize, h: usize) -> Vec<f64> {
        self.forecast_origins(y, season, &[y.len()], h)
            .pop()
            .unwrap_or_default()
    }
}
