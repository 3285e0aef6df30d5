//! PostgreSQL statements of a batched group. Each joins arrays of keys or rows to a
//! table; a lane's connection plans such joins as nested loops over the primary key
//! (see `lane`), so they touch only the rows named, and as their text never changes
//! each is prepared once per connection.

use super::KeptMovement;
use crate::idempotency::KeyRow;
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
    Ok(rows.into_iter().map(LockedRow::into_lot).collect())
}

impl LockedRow {
    fn into_lot(self) -> (StockKey, LotBalance) {
        let key = StockKey {
            site: self.site_id,
            item: self.item_id,
        };
        let lot = LotBalance {
            lot: self.lot,
            expires_on: self.expires_on,
            quantity: self.quantity,
        };
        (key, lot)
    }
}

/// A row of a group's first statement: a drawn id, or a locked balance.
#[derive(QueryableByName)]
struct OpeningRow {
    #[diesel(sql_type = Nullable<BigInt>)]
    drawn: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    site_id: Option<i64>,
    #[diesel(sql_type = Nullable<BigInt>)]
    item_id: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    lot: Option<String>,
    #[diesel(sql_type = Nullable<Date>)]
    expires_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<BigInt>)]
    quantity: Option<i64>,
}

/// A group's first statement after its site locks: locks and reads the balance rows of
/// `keys` in key order, and draws `draw` movement ids (sorted). One round trip instead
/// of two.
pub(super) fn open(
    conn: &mut PgConnection,
    keys: &[StockKey],
    draw: usize,
) -> QueryResult<Opening> {
    let rows = PgStatement {
        parts: &[
            // The ids are a materialized CTE, so they are drawn once whatever the plan.
            "WITH locked AS (SELECT b.site_id, b.item_id, b.lot, b.expires_on, b.quantity \
             FROM unnest(",
            ", ",
            ") AS k (site_id, item_id) \
             JOIN balances AS b ON b.site_id = k.site_id AND b.item_id = k.item_id \
             ORDER BY b.site_id, b.item_id, b.lot FOR UPDATE OF b), \
             drawn AS MATERIALIZED (SELECT nextval('movements_id_seq') AS id \
             FROM generate_series(1, ",
            ")) SELECT NULL::bigint AS drawn, site_id, item_id, lot, expires_on, quantity \
             FROM locked UNION ALL SELECT id, NULL, NULL, NULL, NULL, NULL FROM drawn",
        ],
        params: vec![
            PgParam::BigInts(keys.iter().map(|k| k.site).collect()),
            PgParam::BigInts(keys.iter().map(|k| k.item).collect()),
            PgParam::BigInt(draw as i64),
        ],
    }
    .load::<OpeningRow>(conn)?;
    let mut lots = Vec::new();
    let mut ids = Vec::new();
    for r in rows {
        match r {
            OpeningRow {
                drawn: Some(id), ..
            } => ids.push(id),
            OpeningRow {
                site_id: Some(site_id),
                item_id: Some(item_id),
                lot: Some(lot),
                quantity: Some(quantity),
                expires_on,
                ..
            } => lots.push(
                LockedRow {
                    site_id,
                    item_id,
                    lot,
                    expires_on,
                    quantity,
                }
                .into_lot(),
            ),
            _ => {}
        }
    }
    ids.sort_unstable();
    Ok(Opening { lots, ids })
}

/// What a group's first statement gave: the locked lots, and the drawn ids in order.
pub(super) struct Opening {
    pub lots: Vec<(StockKey, LotBalance)>,
    pub ids: Vec<i64>,
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

/// Writes every changed balance, every movement and the group's idempotency keys in
/// one statement.
pub(super) fn write(
    conn: &mut PgConnection,
    now: NaiveDateTime,
    changed: &[BalanceWrite<'_>],
    movements: &[KeptMovement],
    keys: &[KeyRow],
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
        keys: crate::idempotency::pg_columns(keys),
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
        self.occurred_at.push(m.occurred_at.0);
        self.recorded_at.push(m.recorded_at.0);
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

/// The group's balance updates, balance inserts, keys and movements as one statement
/// whose text never changes (arrays of any length), so it is prepared once per
/// connection.
struct WriteGroup<'k> {
    now: NaiveDateTime,
    updates: Columns,
    inserts: Columns,
    movements: MovementColumns,
    keys: [PgParam<'k>; 6],
}

impl QueryId for WriteGroup<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl QueryFragment<Pg> for WriteGroup<'_> {
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
            "), keyed AS (INSERT INTO idempotency_keys ",
            crate::idempotency::key_columns!(),
            " SELECT * FROM unnest("
        ));
        for (i, column) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push_sql(", ");
            }
            column.bind(&mut out)?;
        }
        out.push_sql(concat!(
            ")) INSERT INTO movements (id, ",
            movement_fields!(),
            ") SELECT * FROM "
        ));
        self.movements.bind(&mut out)?;
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for WriteGroup<'_> {}

#[cfg(test)]
mod tests {
    use crate::connection::{DbConnection, Target};
    use crate::lane::{SITE_LOCK_CLASS, begin_group, site_key};
    use crate::testing::{TestDatabase, backend, item, query_count_at, site};
    use diesel::Connection;
    use diesel::connection::SimpleConnection;
    use ppe_domain::commands::{Receipt, ReceiptLine};
    use ppe_domain::site::SiteKind;
    use ppe_domain::stock::StockKey;
    use std::collections::BTreeSet;
    use std::time::{Duration, Instant};

    fn pg(url: &str) -> diesel::PgConnection {
        match Target::parse(url).and_then(|t| t.connect()) {
            Ok(DbConnection::Postgresql(c)) => c,
            Ok(_) => panic!("{url} is not PostgreSQL"),
            Err(e) => panic!("connecting to {url}: {e}"),
        }
    }

    /// A warehouse WH holding FFP2 in two lots; its (site, item) key.
    fn stocked(t: &TestDatabase) -> StockKey {
        let now = chrono::Utc::now();
        let db = crate::Db::open(&t.url, &crate::DbOptions::default()).unwrap();
        db.write(move |c| {
            crate::catalogue::create_item(c, &item("FFP2"), now)?;
            crate::catalogue::create_site(c, &site("WH", SiteKind::Warehouse), now)?;
            let line = |lot: &str, quantity| ReceiptLine {
                item: "FFP2".into(),
                quantity,
                lot: Some(lot.into()),
                expires_on: None,
            };
            let receipt = Receipt {
                site: "WH".into(),
                occurred_at: None,
                reported_by: "test".into(),
                reference: None,
                lines: vec![line("A", 100), line("B", 50)],
            };
            crate::ledger::record_receipt(c, &crate::catalogue::IdCache::default(), &receipt, now)
        })
        .unwrap();
        StockKey {
            site: query_count_at(&t.url, "SELECT id FROM sites WHERE code = 'WH'"),
            item: query_count_at(&t.url, "SELECT id FROM items WHERE sku = 'FFP2'"),
        }
    }

    /// A group that waits for a site's lock must then see what the group that held it
    /// committed, new lots included: a count works out its difference from every lot
    /// of its item, and an issue draws the earliest expiry first. (Under READ
    /// COMMITTED a statement's snapshot is taken when it starts, so a balance read in
    /// the statement that waited for the lock would miss rows committed meanwhile.)
    #[test]
    fn a_group_that_waited_for_its_site_sees_the_lots_committed_meanwhile() {
        if backend() != "postgres" {
            eprintln!("PostgreSQL only (PPE_TEST_BACKEND=postgres)");
            return;
        }
        let t = TestDatabase::new();
        let key = stocked(&t);
        let site_lock = site_key("WH");

        let mut holder = pg(&t.url);
        holder.batch_execute("BEGIN").unwrap();
        holder
            .batch_execute(&format!(
                "SELECT pg_advisory_xact_lock({SITE_LOCK_CLASS}, {site_lock}); \
                 INSERT INTO balances (site_id, item_id, lot, expires_on, quantity, updated_at) \
                 VALUES ({}, {}, 'C', NULL, 7, now())",
                key.site, key.item
            ))
            .unwrap();

        let url = t.url.clone();
        let opener = std::thread::spawn(move || {
            let mut c = DbConnection::Postgresql(pg(&url));
            let stock = (BTreeSet::from([key]), 1);
            let lots = c.transaction(|c| {
                begin_group(c, &[site_lock], Some(&stock))?;
                Ok::<_, diesel::result::Error>(crate::batch::lots_of(key))
            });
            crate::batch::end(false);
            lots
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while query_count_at(
            &t.url,
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
        ) == 0
        {
            assert!(
                Instant::now() < deadline,
                "the group never waited for its site"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        holder.batch_execute("COMMIT").unwrap();

        let lots = opener.join().unwrap().unwrap();
        let mut seen: Vec<(&str, i64)> =
            lots.iter().map(|l| (l.lot.as_str(), l.quantity)).collect();
        seen.sort_unstable();
        assert_eq!(seen, [("A", 100), ("B", 50), ("C", 7)]);
    }
}
