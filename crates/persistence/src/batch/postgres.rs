//! PostgreSQL statements of a batched group. Each joins arrays of keys or rows to a
//! table; a lane's connection plans such joins as nested loops over the primary key
//! (see `lane`), so they touch only the rows named, and as their text never changes
//! each is prepared once per connection.

use super::KeptMovement;
use crate::statements::{BalanceWrite, PgParam, PgStatement, movement_fields};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Timestamp};
use diesel::{PgConnection, QueryResult, QueryableByName, RunQueryDsl};
use ppe_domain::stock::{LotBalance, StockKey};

#[derive(QueryableByName)]
struct LockedRow {
    #[diesel(sql_type = BigInt)]
    site_id: i64,
    #[diesel(sql_type = BigInt)]
    item_id: i64,
    #[diesel(sql_type = Text)]
    lot: String,
    #[diesel(sql_type = Nullable<Date>)]
    expires_on: Option<NaiveDate>,
    #[diesel(sql_type = BigInt)]
    quantity: i64,
}

/// Locks and reads the balance rows of `keys`, in key order.
pub(super) fn lock(
    conn: &mut PgConnection,
    keys: &[StockKey],
) -> QueryResult<Vec<(StockKey, LotBalance)>> {
    let rows = PgStatement {
        parts: &[
            "SELECT b.site_id, b.item_id, b.lot, b.expires_on, b.quantity FROM unnest(",
            ", ",
            ") AS k (site_id, item_id) \
             JOIN balances AS b ON b.site_id = k.site_id AND b.item_id = k.item_id \
             ORDER BY b.site_id, b.item_id, b.lot FOR UPDATE OF b",
        ],
        params: vec![
            PgParam::BigInts(keys.iter().map(|k| k.site).collect()),
            PgParam::BigInts(keys.iter().map(|k| k.item).collect()),
        ],
    }
    .load::<LockedRow>(conn)?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let key = StockKey {
                site: r.site_id,
                item: r.item_id,
            };
            let lot = LotBalance {
                lot: r.lot,
                expires_on: r.expires_on,
                quantity: r.quantity,
            };
            (key, lot)
        })
        .collect())
}

#[derive(QueryableByName)]
struct Drawn {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// `n` new movement ids. The sequence hands them out outside transactions, so ids a
/// rolled-back group drew are gaps, as they would be one by one.
pub(super) fn draw_ids(conn: &mut PgConnection, n: usize) -> QueryResult<Vec<i64>> {
    let mut ids: Vec<i64> = PgStatement {
        parts: &[
            "SELECT nextval('movements_id_seq') AS id FROM generate_series(1, ",
            ")",
        ],
        params: vec![PgParam::BigInt(n as i64)],
    }
    .load::<Drawn>(conn)?
    .into_iter()
    .map(|d| d.id)
    .collect();
    ids.sort_unstable();
    Ok(ids)
}

/// Writes every changed balance and every movement in one statement.
pub(super) fn write(
    conn: &mut PgConnection,
    now: NaiveDateTime,
    changed: &[BalanceWrite<'_>],
    movements: &[KeptMovement],
) -> QueryResult<()> {
    let mut updates = Columns::default();
    let mut inserts = Columns::default();
    for c in changed {
        if c.existed {
            updates.push(c);
        } else {
            inserts.push(c);
        }
    }
    let mut columns = MovementColumns::default();
    for m in movements {
        columns.push(m);
    }
    WriteGroup {
        now,
        updates,
        inserts,
        movements: columns,
    }
    .execute(conn)
    .map(drop)
}

/// The group's movements, column by column, for `unnest`.
#[derive(Default)]
struct MovementColumns {
    id: Vec<i64>,
    kind: Vec<String>,
    site: Vec<i64>,
    item: Vec<i64>,
    lot: Vec<String>,
    expires_on: Vec<Option<NaiveDate>>,
    quantity: Vec<i64>,
    counted: Vec<Option<i64>>,
    reason: Vec<Option<String>>,
    transfer_id: Vec<Option<i64>>,
    reported_by: Vec<String>,
    occurred_at: Vec<NaiveDateTime>,
    recorded_at: Vec<NaiveDateTime>,
    token_id: Vec<Option<i64>>,
    token_name: Vec<Option<String>>,
}

impl MovementColumns {
    fn push(&mut self, m: &KeptMovement) {
        self.id.push(m.id);
        self.kind.push(m.kind.clone());
        self.site.push(m.site);
        self.item.push(m.item);
        self.lot.push(m.lot.clone());
        self.expires_on.push(m.expires_on);
        self.quantity.push(m.quantity);
        self.counted.push(m.counted);
        self.reason.push(m.reason.clone());
        self.transfer_id.push(m.transfer_id);
        self.reported_by.push(m.reported_by.clone());
        self.occurred_at.push(m.occurred_at);
        self.recorded_at.push(m.recorded_at);
        self.token_id.push(m.token_id);
        self.token_name.push(m.token_name.clone());
    }

    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.kind)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.site)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.item)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.lot)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Date>>, _>(&self.expires_on)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.quantity)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.counted)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.reason)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.transfer_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.reported_by)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.occurred_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Timestamp>, _>(&self.recorded_at)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<BigInt>>, _>(&self.token_id)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.token_name)?;
        out.push_sql(")");
        Ok(())
    }
}

/// Balance rows as parallel arrays, for `unnest`.
#[derive(Default)]
struct Columns {
    site: Vec<i64>,
    item: Vec<i64>,
    lot: Vec<String>,
    expires_on: Vec<Option<NaiveDate>>,
    quantity: Vec<i64>,
}

impl Columns {
    fn push(&mut self, b: &BalanceWrite<'_>) {
        self.site.push(b.site);
        self.item.push(b.item);
        self.lot.push(b.lot.to_owned());
        self.expires_on.push(b.expires_on);
        self.quantity.push(b.quantity);
    }

    fn bind<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("unnest(");
        out.push_bind_param::<Array<BigInt>, _>(&self.site)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.item)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.lot)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Nullable<Date>>, _>(&self.expires_on)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<BigInt>, _>(&self.quantity)?;
        out.push_sql(") AS v (site_id, item_id, lot, expires_on, quantity)");
        Ok(())
    }
}

/// The group's balance updates, balance inserts and movements as one statement whose
/// text never changes (arrays of any length), so it is prepared once per connection.
struct WriteGroup {
    now: NaiveDateTime,
    updates: Columns,
    inserts: Columns,
    movements: MovementColumns,
}

impl QueryId for WriteGroup {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for WriteGroup {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("WITH updated AS (UPDATE balances AS b SET quantity = v.quantity, ");
        out.push_sql("expires_on = v.expires_on, updated_at = ");
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" FROM ");
        self.updates.bind(&mut out)?;
        out.push_sql(
            " WHERE b.site_id = v.site_id AND b.item_id = v.item_id AND b.lot = v.lot), \
             inserted AS (INSERT INTO balances (site_id, item_id, lot, expires_on, quantity, \
             updated_at) SELECT v.site_id, v.item_id, v.lot, v.expires_on, v.quantity, ",
        );
        out.push_bind_param::<Timestamp, _>(&self.now)?;
        out.push_sql(" FROM ");
        self.inserts.bind(&mut out)?;
        out.push_sql(concat!(
            ") INSERT INTO movements (id, ",
            movement_fields!(),
            ") SELECT * FROM "
        ));
        self.movements.bind(&mut out)?;
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for WriteGroup {}
