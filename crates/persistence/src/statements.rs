//! Hand-written statements for the hot write path, shaped so diesel prepares each once per
//! connection and reuses it. diesel caches a prepared statement by its SQL text when the
//! query says it is safe to, but never caches `sql_query`, `batch_execute` or an
//! `UPDATE` built with its DSL: those are parsed (and planned) again on every call.

use diesel::backend::Backend;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::result::QueryResult;
use diesel::serialize::{IsNull, Output, ToSql};
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

/// A timestamp parameter. SQLite keeps timestamps as the text diesel binds (chrono's
/// `%F %T%.f`); this binds the same text, written digit by digit by
/// `ppe_domain::timestamp` instead of chrono's format interpreter, which cost the
/// writer thread a few percent of its time. PostgreSQL binds it as chrono's.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StoredTime(pub chrono::NaiveDateTime);

impl ToSql<Timestamp, Sqlite> for StoredTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> diesel::serialize::Result {
        out.set_value(ppe_domain::timestamp::sql_text(&self.0));
        Ok(IsNull::No)
    }
}

impl ToSql<Timestamp, Pg> for StoredTime {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> diesel::serialize::Result {
        ToSql::<Timestamp, Pg>::to_sql(&self.0, out)
    }
}

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
    pub occurred_at: StoredTime,
    pub recorded_at: StoredTime,
    pub token_id: Option<i64>,
    pub token_name: Option<&'a str>,
}

/// SQLite: `UPDATE balances …` of one lot, as a cacheable statement.
pub(crate) struct UpdateBalance<'a> {
    pub row: &'a BalanceWrite<'a>,
    pub now: StoredTime,
}

/// Marks a statement whose SQL text never changes, so diesel finds its prepared form
/// by type instead of building the text to look it up.
pub(crate) struct Static<T>(std::marker::PhantomData<T>);

impl QueryId for UpdateBalance<'_> {
    type QueryId = Static<UpdateBalance<'static>>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<'a> QueryFragment<Sqlite> for UpdateBalance<'a> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        update_balance(self.row, &self.now, &mut out)
    }
}

impl RunQueryDsl<SqliteConnection> for UpdateBalance<'_> {}

fn update_balance<'b, DB>(
    b: &'b BalanceWrite<'_>,
    now: &'b StoredTime,
    out: &mut AstPass<'_, 'b, DB>,
) -> QueryResult<()>
where
    DB: Backend,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    str: diesel::serialize::ToSql<Text, DB>,
    chrono::NaiveDate: diesel::serialize::ToSql<Date, DB>,
    StoredTime: ToSql<Timestamp, DB>,
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

/// SQLite: one movement row, returning its id.
pub(crate) struct InsertMovement<'a>(pub &'a MovementRow<'a>);

impl QueryId for InsertMovement<'_> {
    type QueryId = Static<InsertMovement<'static>>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for InsertMovement<'_> {
    type SqlType = BigInt;
}

impl<'a> QueryFragment<Sqlite> for InsertMovement<'a> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(MOVEMENT_COLUMNS);
        out.push_sql("(");
        movement_values(self.0, &mut out)?;
        out.push_sql(") RETURNING id");
        Ok(())
    }
}

impl RunQueryDsl<SqliteConnection> for InsertMovement<'_> {}

/// The columns of a movement other than its id, in the order `movement_values` binds.
macro_rules! movement_fields {
    () => {
        "kind, site_id, item_id, lot, expires_on, quantity, counted, reason, transfer_id, \
         reported_by, occurred_at, recorded_at, token_id, token_name"
    };
}
pub(crate) use movement_fields;

const MOVEMENT_COLUMNS: &str = concat!("INSERT INTO movements (", movement_fields!(), ") VALUES ");

/// SQLite: movements whose ids are already chosen, many rows in one statement. The
/// text depends on the number of rows only; callers cut a group into [`row_chunks`],
/// so a handful of texts are prepared once each.
///
/// `OR FAIL`, with the table's foreign keys deferred to COMMIT, means no constraint
/// can abort the statement halfway, so SQLite keeps no statement journal for it (a
/// copy of every page the insert touches, otherwise). A failure still leaves nothing:
/// the group's transaction is rolled back whole whenever one of its statements fails.
pub(crate) struct InsertMovements<'a> {
    pub ids: &'a [i64],
    pub rows: &'a [MovementRow<'a>],
}

impl QueryId for InsertMovements<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<'a> QueryFragment<Sqlite> for InsertMovements<'a> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(concat!(
            "INSERT OR FAIL INTO movements (id, ",
            movement_fields!(),
            ") VALUES "
        ));
        for (i, (id, m)) in self.ids.iter().zip(self.rows).enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            out.push_bind_param::<BigInt, _>(id)?;
            out.push_sql(", ");
            movement_values(m, &mut out)?;
            out.push_sql(")");
        }
        Ok(())
    }
}

impl RunQueryDsl<SqliteConnection> for InsertMovements<'_> {}

/// Cuts `n` rows into runs of `max` rows, then of falling powers of two, so that
/// statements of many rows take one of a few shapes (SQLite keeps one prepared
/// statement per text). `max` is a power of two.
pub(crate) fn row_chunks(n: usize, max: usize) -> impl Iterator<Item = std::ops::Range<usize>> {
    debug_assert!(max.is_power_of_two());
    let mut start = 0;
    std::iter::from_fn(move || {
        let left = n - start;
        if left == 0 {
            return None;
        }
        let len = if left >= max { max } else { 1 << left.ilog2() };
        start += len;
        Some(start - len..start)
    })
}

fn movement_values<'b, DB>(m: &'b MovementRow<'_>, out: &mut AstPass<'_, 'b, DB>) -> QueryResult<()>
where
    DB: Backend,
    i64: diesel::serialize::ToSql<BigInt, DB>,
    str: diesel::serialize::ToSql<Text, DB>,
    chrono::NaiveDate: diesel::serialize::ToSql<Date, DB>,
    StoredTime: ToSql<Timestamp, DB>,
    DB: diesel::sql_types::HasSqlType<BigInt>
        + diesel::sql_types::HasSqlType<Text>
        + diesel::sql_types::HasSqlType<Date>
        + diesel::sql_types::HasSqlType<Timestamp>,
{
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
    Ok(())
}

/// SQLite: one idempotency key and its answer.
pub(crate) struct InsertKey<'a> {
    pub key: &'a str,
    pub request_hash: &'a str,
    pub status: i32,
    pub response: Option<&'a str>,
    pub movement_ids: Option<&'a str>,
    pub created_at: StoredTime,
}

impl QueryId for InsertKey<'_> {
    type QueryId = Static<InsertKey<'static>>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<'a> QueryFragment<Sqlite> for InsertKey<'a> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(KEY_COLUMNS);
        self.values(&mut out)
    }
}

const KEY_COLUMNS: &str = concat!(
    "INSERT INTO idempotency_keys ",
    crate::idempotency::key_columns!(),
    " VALUES "
);

/// The many-row insert's text (see [`InsertKeys`]).
const KEY_COLUMNS_OR_FAIL: &str = concat!(
    "INSERT OR FAIL INTO idempotency_keys ",
    crate::idempotency::key_columns!(),
    " VALUES "
);

impl<'a> InsertKey<'a> {
    fn values<'b>(&'b self, out: &mut AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql("(");
        out.push_bind_param::<Text, _>(self.key)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(self.request_hash)?;
        out.push_sql(", ");
        out.push_bind_param::<diesel::sql_types::Integer, _>(&self.status)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.response)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.movement_ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Timestamp, _>(&self.created_at)?;
        out.push_sql(")");
        Ok(())
    }
}

/// SQLite: many idempotency keys in one statement (see [`row_chunks`]), `OR FAIL` for
/// the reason [`InsertMovements`] gives.
pub(crate) struct InsertKeys<'a>(pub &'a [InsertKey<'a>]);

impl QueryId for InsertKeys<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<'a> QueryFragment<Sqlite> for InsertKeys<'a> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Sqlite>) -> QueryResult<()> {
        out.push_sql(KEY_COLUMNS_OR_FAIL);
        for (i, k) in self.0.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            k.values(&mut out)?;
        }
        Ok(())
    }
}

impl RunQueryDsl<SqliteConnection> for InsertKeys<'_> {}

impl RunQueryDsl<SqliteConnection> for InsertKey<'_> {}

/// PostgreSQL: a command's movements and balances in one statement (one round trip),
/// the balance writes as data-modifying CTEs beside the movement insert. Returns the new
/// movement ids. The text depends only on how many rows of each kind there are, so the
/// common shapes are prepared once.
pub(crate) struct RecordMovements<'a> {
    pub movements: &'a [MovementRow<'a>],
    pub balances: &'a [BalanceWrite<'a>],
    pub now: StoredTime,
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
        out.push_sql(MOVEMENT_COLUMNS);
        for (i, m) in self.movements.iter().enumerate() {
            out.push_sql(if i == 0 { "(" } else { ", (" });
            movement_values(m, &mut out)?;
            out.push_sql(")");
        }
        out.push_sql(" RETURNING id");
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for RecordMovements<'_> {}

/// A parameter of a [`PgStatement`].
pub(crate) enum PgParam<'a> {
    Int(i32),
    BigInt(i64),
    Ints(Vec<i32>),
    BigInts(Vec<i64>),
    Texts(Vec<&'a str>),
    NullableTexts(Vec<Option<&'a str>>),
    Timestamps(Vec<chrono::NaiveDateTime>),
}

/// PostgreSQL: a statement of fixed text with its parameters, prepared once per
/// connection (`sql_query` would be parsed and planned on every call). `parts` are the
/// text around the parameters: one more part than parameters.
pub(crate) struct PgStatement<'a> {
    pub parts: &'static [&'static str],
    pub params: Vec<PgParam<'a>>,
}

impl QueryId for PgStatement<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for PgStatement<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        debug_assert_eq!(self.parts.len(), self.params.len() + 1);
        for (part, param) in self.parts.iter().zip(&self.params) {
            out.push_sql(part);
            param.bind(&mut out)?;
        }
        out.push_sql(self.parts.last().copied().unwrap_or_default());
        Ok(())
    }
}

impl<'a> PgParam<'a> {
    /// Binds the value as the statement's next parameter.
    pub(crate) fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Array, Integer};
        match self {
            PgParam::Int(v) => out.push_bind_param::<Integer, _>(v),
            PgParam::BigInt(v) => out.push_bind_param::<BigInt, _>(v),
            PgParam::Ints(v) => out.push_bind_param::<Array<Integer>, _>(v),
            PgParam::BigInts(v) => out.push_bind_param::<Array<BigInt>, _>(v),
            PgParam::Texts(v) => out.push_bind_param::<Array<Text>, _>(v),
            PgParam::NullableTexts(v) => out.push_bind_param::<Array<Nullable<Text>>, _>(v),
            PgParam::Timestamps(v) => out.push_bind_param::<Array<Timestamp>, _>(v),
        }
    }
}

impl Query for PgStatement<'_> {
    type SqlType = diesel::sql_types::Untyped;
}

impl RunQueryDsl<PgConnection> for PgStatement<'_> {}

#[cfg(test)]
mod tests {
    use super::row_chunks;

    #[test]
    fn row_chunks_cover_every_row_once_in_few_shapes() {
        for n in 0..300 {
            let chunks: Vec<_> = row_chunks(n, 64).collect();
            let mut next = 0;
            for c in &chunks {
                assert_eq!(c.start, next, "n = {n}: contiguous");
                assert!(c.len().is_power_of_two() && c.len() <= 64, "n = {n}: {c:?}");
                next = c.end;
            }
            assert_eq!(next, n);
            // Runs of the largest size, then each smaller size at most once.
            let tail: Vec<usize> = chunks.iter().map(|c| c.len()).filter(|&l| l < 64).collect();
            assert!(tail.windows(2).all(|w| w[0] > w[1]), "n = {n}: {tail:?}");
        }
    }
}
