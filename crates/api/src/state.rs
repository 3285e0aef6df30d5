//! Shared state of the HTTP handlers.

use crate::auth::AuthState;
use crate::forecasting::ForecastSettings;
use crate::forecasting::answer_cache::AnswerCache;
use ppe_persistence::Db;
use std::sync::Arc;

pub struct AppState {
    pub db: Db,
    pub auth: AuthState,
    pub forecasting: Arc<ForecastSettings>,
    /// Serialised supply-status answers, valid until the stored forecasts change.
    pub answers: AnswerCache,
    /// Days a write's `occurred_at` may lie in the past without `historical=true`.
    pub backdate_limit_days: i64,
    /// The bounded pool route solves, plan building and scenarios run on.
    pub heavy: Arc<crate::heavy::HeavyWork>,
}
