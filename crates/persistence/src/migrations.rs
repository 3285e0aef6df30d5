//! Embedded migrations, one folder per backend with the same version names.

use crate::connection::DbConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Applies every pending migration; returns the versions applied.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, BoxError> {
    let applied = match conn {
        DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE)?,
        DbConnection::Postgresql(c) => c.run_pending_migrations(POSTGRES)?,
    };
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Reverts every applied migration (tests and disaster recovery only).
pub fn revert_all(conn: &mut DbConnection) -> Result<Vec<String>, BoxError> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE)?,
        DbConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES)?,
    };
    Ok(reverted.iter().map(|v| v.to_string()).collect())
}
