//! Shared state of the HTTP handlers.

use ppe_persistence::Db;

pub struct AppState {
    pub db: Db,
}
