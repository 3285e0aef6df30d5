//! Persistence of PPE Depot: rows, schema, migrations and repositories over SQLite
//! (embedded default) and PostgreSQL (scale-out), one codebase. Business rules live in
//! `ppe-domain`; this crate turns them into rows and back.

pub mod audit;
pub mod backup;
mod batch;
pub mod catalogue;
mod checkpoint;
pub mod connection;
pub mod db;
pub mod error;
pub mod fleet;
pub mod forecasts;
pub mod health;
pub mod idempotency;
pub mod imports;
pub mod integrity;
mod lane;
pub mod lease;
pub mod ledger;
pub mod migrations;
pub mod plans;
pub mod priority;
pub mod reads;
pub mod requests;
mod savepoint;
pub mod schema;
mod statements;
pub mod stats;
pub mod testing;
pub mod tokens;
mod wal_gather;

pub use connection::{Backend, DbConnection};
pub use db::{Db, DbOptions, OpenError};
pub use error::StoreError;
