//! Hand-written statements for the hot write path, shaped so diesel prepares each once per
//! connection and reuses it. diesel caches a prepared statement by its SQL text when the
//! query says it is safe to, but never caches `sql_query`, `batch_execute` or an
//! `UPDATE` built with its DSL: those are parsed (and planned) again on every call.

use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::sql_types::{BigInt, Date, Nullable, Text, Timestamp};
use diesel::sqlite::Sqlite;
use diesel::{PgConnection, RunQueryDsl, SqliteConnection};

/// A statement without parameters whose text never changes, e.g. `SAVEPOINT job`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fixed(pub &'static str);

impl QueryId for Fixed {
    type QueryId = ();
    // Cached by its SQL text: one type serves every fixed statement.
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<DB: Backend> QueryFragment<DB> for Fixed {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, DB>) -> QueryResult<()> {
        out.push_sql(self.0);
        Ok(())
    }
}

impl<C> RunQueryDsl<C> for Fixed {}

/// One lot balance as a command leaves it.
pub(crate) struct BalanceWrite<'a> {
    pub site: i64,
    pub item: i64,
    pub lot: &'a str,
    pub expires_on: Option<chrono::NaiveDate>,
    pub quantity: i64,
    /// True when the row existed (and was locked) before the command: it is updated,
    /// otherwise inserted, so a concurrent insert of the same new lot fails (and is
    /// retried) instead of being overwritten.
    pub existed: bool,
}

/// One movement row.
pub(crate) struct MovementRow<'a> {
    pub kind: &'a str,
    pub site: i64,
    pub item: i64,
    pub lot: &'a str,
    pub expires_on: Option<chrono::NaiveDate>,
    pub quantity: i64,
    pub counted: Option<i64>,
    pub reason: Option<&'a str>,
    pub transfer_id: Option<i64>,
    pub reported_by: &'a str,
    pub occurred_at: chrono::NaiveDateTime,
    pub recorded_at: chrono::NaiveDateTime,
    pub token_id: Option<i64>,
    pub token_name: Option<&'a str>,
}

/// SQLite: `UPDATE balances …` of one lot, as a cacheable statement.
pub(crate) struct UpdateBalance<'a> {
    pub row: &'a BalanceWrite<'a>,
    pub now: chrono::NaiveDateTime,
}

impl QueryId for UpdateBalance<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<'a> QueryFragment<Sqlite> for UpdateBalance<'a> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        update_balance(self.row, &self.now, &mut out)
    }
}

impl RunQueryDsl<SqliteConnection> for UpdateBalance<'_> {}

fn update_balance<'b, DB>(
    b: &'b BalanceWrite<'_>,
    now: &'b chrono::NaiveDateTime,
    out: &mut AstPass<'_, 'b, DB>,
) -> QueryResult<()>
where
    DB: Backend,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    str: diesel::serialize::ToSql<Text, DB>,
    chrono::NaiveDate: diesel::serialize::ToSql<Date, DB>,
    chrono::NaiveDateTime: diesel::serialize::ToSql<Timestamp, DB>,
    DB: diesel::sql_types::HasSqlType<BigInt>
        + diesel::sql_types::HasSqlType<Text>
        + diesel::sql_types::HasSqlType<Date>
        + diesel::sql_types::HasSqlType<Timestamp>,
{
    out.push_sql("UPDATE balances SET quantity = ");
    out.push_bind_param::<BigInt, _>(&b.quantity)?;
    out.push_sql(", expires_on = ");
    out.push_bind_param::<Nullable<Date>, _>(&b.expires_on)?;
    out.push_sql(", updated_at = ");
    out.push_bind_param::<Timestamp, _>(now)?;
    out.push_sql(" WHERE site_id = ");
    out.push_bind_param::<BigInt, _>(&b.site)?;
    out.push_sql(" AND item_id = ");
    out.push_bind_param::<BigInt, _>(&b.item)?;
    out.push_sql(" AND lot = ");
    out.push_bind_param::<Text, _>(b.lot)?;
    Ok(())
}

/// PostgreSQL: a command's movements and balances in one statement (one round trip),
/// the balance writes as data-modifying CTEs beside the movement insert. Returns the new
/// movement ids. The text depends only on how many rows of each kind there are, so the
/// common shapes are prepared once.
pub(crate) struct RecordMovements<'a> {
    pub movements: &'a [MovementRow<'a>],
    pub balances: &'a [BalanceWrite<'a>],
    pub now: chrono::NaiveDateTime,
}

impl QueryId for RecordMovements<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for RecordMovements<'_> {
    type SqlType = BigInt;
}

impl<'a> QueryFragment<Pg> for RecordMovements<'a> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        for (i, b) in self.balances.iter().enumerate() {
            out.push_sql(if i == 0 { "WITH " } else { ", " });
            out.push_sql(&format!("b{i} AS ("));
            if b.existed {
                update_balance(b, &self.now, &mut out)?;
            } else {
                out.push_sql(
                    "INSERT INTO balances (site_id, item_id, lot, expires_on, quantity, updated_at) VALUES (",
                );
                out.push_bind_param::<BigInt, _>(&b.site)?;
                out.push_sql(", ");
                out.push_bind_param::<BigInt, _>(&b.item)?;
                out.push_sql(", ");
                out.push_bind_param::<Text, _>(b.lot)?;
                out.push_sql(", ");
                out.push_bind_param::<Nullable<Date>, _>(&b.expires_on)?;
                out.push_sql(", ");
                out.push_bind_param::<BigInt, _>(&b.quantity)?;
                out.push_sql(", ");
                out.push_bind_param::<Timestamp, _>(&self.now)?;
                out.push_sql(")");
            }
            out.push_sql(")");
        }
        if !self.balances.is_empty() {
            out.push_sql(" ");
        }
        out.push_sql(
            "INSERT INTO movements (kind, site_id, item_id, lot, expires_on, quantity, counted, \
             reason, transfer_id, reported_by, occurred_at, recorded_at, token_id, token_name) VALUES ",
        );
        for (i, m) in self.movements.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            out.push_bind_param::<Text, _>(m.kind)?;
            out.push_sql(", ");
            out.push_bind_param::<BigInt, _>(&m.site)?;
            out.push_sql(", ");
            out.push_bind_param::<BigInt, _>(&m.item)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(m.lot)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Date>, _>(&m.expires_on)?;
            out.push_sql(", ");
            out.push_bind_param::<BigInt, _>(&m.quantity)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<BigInt>, _>(&m.counted)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, _>(&m.reason)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<BigInt>, _>(&m.transfer_id)?;
            out.push_sql(", ");
            out.push_bind_param::<Text, _>(m.reported_by)?;
            out.push_sql(", ");
            out.push_bind_param::<Timestamp, _>(&m.occurred_at)?;
            out.push_sql(", ");
            out.push_bind_param::<Timestamp, _>(&m.recorded_at)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<BigInt>, _>(&m.token_id)?;
            out.push_sql(", ");
            out.push_bind_param::<Nullable<Text>, _>(&m.token_name)?;
            out.push_sql(")");
        }
        out.push_sql(" RETURNING id");
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for RecordMovements<'_> {}
