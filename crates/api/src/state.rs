//! Shared state of the HTTP handlers.

use crate::auth::AuthState;
use ppe_persistence::Db;

pub struct AppState {
    pub db: Db,
    pub auth: AuthState,
}
