//! Embedded migrations, one folder per backend with the same version names.

use crate::connection::DbConnection;
use diesel::RunQueryDsl;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

pub const SQLITE: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Applies every pending migration; returns the versions applied. On PostgreSQL,
/// replicas starting together on a new database take turns (a session advisory lock):
/// the first migrates, the others then find nothing pending.
pub fn run_pending(conn: &mut DbConnection) -> Result<Vec<String>, BoxError> {
    let names = |versions: Vec<diesel::migration::MigrationVersion<'_>>| {
        versions.iter().map(|v| v.to_string()).collect::<Vec<_>>()
    };
    match conn {
        DbConnection::Sqlite(c) => Ok(names(c.run_pending_migrations(SQLITE)?)),
        DbConnection::Postgresql(c) => {
            let key = crate::lease::LeaseKey::Migrations as i64;
            diesel::sql_query("SELECT pg_advisory_lock($1)")
                .bind::<diesel::sql_types::BigInt, _>(key)
                .execute(c)?;
            let applied = c.run_pending_migrations(POSTGRES).map(names);
            let unlocked = diesel::sql_query("SELECT pg_advisory_unlock($1)")
                .bind::<diesel::sql_types::BigInt, _>(key)
                .execute(c);
            let applied = applied?;
            unlocked?;
            Ok(applied)
        }
    }
}

/// Reverts every applied migration (tests and disaster recovery only).
pub fn revert_all(conn: &mut DbConnection) -> Result<Vec<String>, BoxError> {
    let reverted = match conn {
        DbConnection::Sqlite(c) => c.revert_all_migrations(SQLITE)?,
        DbConnection::Postgresql(c) => c.revert_all_migrations(POSTGRES)?,
    };
    Ok(reverted.iter().map(|v| v.to_string()).collect())
}
