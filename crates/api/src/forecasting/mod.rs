//! Forecasts as a service: computed from the ledger in the background, stored, and read by
//! the API without fitting anything.

pub mod compute;
pub mod refresh;
pub mod stored;

pub use compute::ForecastSettings;
