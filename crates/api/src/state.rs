//! Shared state of the HTTP handlers.

use crate::auth::AuthState;
use crate::forecasting::ForecastSettings;
use ppe_persistence::Db;
use std::sync::Arc;

pub struct AppState {
    pub db: Db,
    pub auth: AuthState,
    pub forecasting: Arc<ForecastSettings>,
}
