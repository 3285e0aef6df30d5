//! Forecasts as a service: computed from the ledger in the background, stored, and read by
//! the API without fitting anything.

pub mod answer_cache;
pub mod compute;
pub mod refresh;
pub mod stored;

pub use compute::ForecastSettings;
