//! SQLite statements of a batched group. SQLite runs in the process, so what a row
//! costs is the statement's own work: setting it up, a statement journal, and for an
//! insert that returns its id a result table. The group's movements and keys are
//! inserted many rows per statement with ids chosen beforehand; balances keep their
//! one prepared statement per row.

use super::KeptMovement;
use crate::connection::DbConnection;
use crate::schema::movements;
use crate::statements::{BalanceWrite, InsertMovements, MovementRow, row_chunks};
use chrono::NaiveDateTime;
use diesel::prelude::*;

/// Movements per insert statement (fifteen parameters each).
const MOVEMENTS_PER_STATEMENT: usize = 64;

/// The highest movement id so far (0 in an empty ledger). The lane is the database's
/// only writer in this process; a write by another process in between makes the
/// group's insert fail on the id, and the group then runs again write by write.
pub(super) fn last_id(conn: &mut SqliteConnection) -> QueryResult<i64> {
    // One row whatever the table holds; `first` would add a bound LIMIT, which keeps
    // SQLite from reusing the prepared statement.
    movements::table
        .select(diesel::dsl::max(movements::id))
        .get_result::<Option<i64>>(conn)
        .map(|id| id.unwrap_or(0))
}

#[derive(QueryableByName)]
struct DataVersion {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    data_version: i64,
}

/// The database's `data_version`: it changes when another connection commits. Run as a
/// transaction's first statement, it also starts the transaction's read snapshot.
pub(super) fn data_version(conn: &mut SqliteConnection) -> QueryResult<i64> {
    diesel::sql_query("PRAGMA data_version")
        .get_result::<DataVersion>(conn)
        .map(|v| v.data_version)
}

/// Writes every changed balance and every movement.
pub(super) fn write(
    conn: &mut DbConnection,
    now: NaiveDateTime,
    changed: &[BalanceWrite<'_>],
    movements: &[KeptMovement],
) -> QueryResult<()> {
    for b in changed {
        crate::ledger::write_balance(conn, b, now)?;
    }
    let DbConnection::Sqlite(lite) = conn else {
        unreachable!("SQLite statements on a SQLite connection")
    };
    let ids: Vec<i64> = movements.iter().map(|m| m.id).collect();
    let rows: Vec<MovementRow> = movements.iter().map(KeptMovement::row).collect();
    for chunk in row_chunks(rows.len(), MOVEMENTS_PER_STATEMENT) {
        InsertMovements {
            ids: &ids[chunk.clone()],
            rows: &rows[chunk],
        }
        .execute(lite)?;
    }
    Ok(())
}
