//! SQLite statements of a batched group. SQLite runs in the process, so what a row
//! costs is the statement's own work: setting it up, a statement journal when the
//! statement could abort halfway, and for an insert that returns its id a result
//! table. The group's movements and keys are inserted many rows per statement with ids
//! chosen beforehand, in statements that cannot abort halfway; balances keep their one
//! prepared statement per row.

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Target;
    use crate::statements::StoredTime;
    use crate::testing::TestDatabase;
    use diesel::result::{DatabaseErrorKind, Error};

    /// The ledger's references are checked at COMMIT (so that the many-row insert keeps
    /// no statement journal): a movement naming a site and an item that do not exist is
    /// still refused, by its COMMIT, and leaves nothing written.
    #[test]
    fn a_movement_naming_no_site_fails_its_commit_and_leaves_nothing() {
        let t = TestDatabase::sqlite();
        drop(crate::Db::open(&t.url, &crate::DbOptions::default()).unwrap());
        let Ok(DbConnection::Sqlite(mut c)) = Target::parse(&t.url).and_then(|t| t.connect())
        else {
            panic!("a SQLite connection to {}", t.url)
        };
        let now = StoredTime(chrono::Utc::now().naive_utc());
        let row = MovementRow {
            kind: "receipt",
            site: 404,
            item: 404,
            lot: "",
            expires_on: None,
            quantity: 5,
            counted: None,
            reason: None,
            transfer_id: None,
            reported_by: "test",
            occurred_at: now,
            recorded_at: now,
            token_id: None,
            token_name: None,
        };
        let mut inserted = None;
        let committed = c.transaction(|c| {
            inserted = Some(
                InsertMovements {
                    ids: &[1],
                    rows: std::slice::from_ref(&row),
                }
                .execute(c)?,
            );
            Ok::<_, Error>(())
        });
        assert_eq!(inserted, Some(1), "the insert itself is not refused");
        assert!(
            matches!(
                committed,
                Err(Error::DatabaseError(
                    DatabaseErrorKind::ForeignKeyViolation,
                    _
                ))
            ),
            "{committed:?}"
        );
        assert_eq!(t.query_count("SELECT count(*) FROM movements"), 0);
        // The connection is usable again: the failed COMMIT was rolled back.
        assert_eq!(last_id(&mut c), Ok(0));
    }
}
