//! PostgreSQL: the ledger writes of one group commit gathered into a few statements.
//!
//! Written one by one, every ledger command costs two round trips (lock and read its
//! balances; write its movements and balances), and on a database that shares the
//! service's cores each round trip costs more in the kernel than the row work does.
//! While a group runs its fast pass, the lane keeps the group's balances here instead:
//! the balances the group's commands name are locked and read in one statement before
//! the first command runs, each command reads and updates them in memory, its movement
//! ids come from a block drawn from the sequence at once, and at the end one statement
//! writes every movement and every changed balance. A group whose fast pass fails runs
//! again write by write without the batch, as before.
//!
//! Both statements join the balances to arrays; a lane's connection plans joins as
//! nested loops over the primary key (see `lane`), so they touch only the rows named.
//!
//! The batch belongs to the thread that runs the group (a lane), so the ledger's code
//! asks [`active`] rather than taking it as a parameter through every command.

use crate::statements::{MovementRow, PgParam, PgStatement};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{Array, BigInt, Date, Nullable, Text, Timestamp};
use diesel::{PgConnection, QueryResult, QueryableByName, RunQueryDsl};
use ppe_domain::stock::{LotBalance, StockBook, StockKey};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};

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
    fn push(&mut self, id: i64, m: &MovementRow<'_>) {
        self.id.push(id);
        self.kind.push(m.kind.to_owned());
        self.site.push(m.site);
        self.item.push(m.item);
        self.lot.push(m.lot.to_owned());
        self.expires_on.push(m.expires_on);
        self.quantity.push(m.quantity);
        self.counted.push(m.counted);
        self.reason.push(m.reason.map(str::to_owned));
        self.transfer_id.push(m.transfer_id);
        self.reported_by.push(m.reported_by.to_owned());
        self.occurred_at.push(m.occurred_at);
        self.recorded_at.push(m.recorded_at);
        self.token_id.push(m.token_id);
        self.token_name.push(m.token_name.map(str::to_owned));
    }

    fn is_empty(&self) -> bool {
        self.id.is_empty()
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

#[derive(Default)]
struct Batch {
    /// The lots of every key the group has locked, as its commands have left them.
    lots: BTreeMap<StockKey, Vec<LotBalance>>,
    /// Lots that existed before the group: updated at the end; the others inserted.
    existed: HashSet<(StockKey, String)>,
    /// Keys a command wrote to.
    dirty: BTreeSet<StockKey>,
    /// Movement ids drawn from the sequence and not used yet.
    ids: VecDeque<i64>,
    /// How many ids the first draw takes: about what the group will use, so that
    /// few are drawn and left unused.
    first_draw: usize,
    movements: MovementColumns,
    /// When the last command was recorded: the balances' `updated_at`.
    now: Option<NaiveDateTime>,
}

thread_local! {
    static BATCH: RefCell<Option<Batch>> = const { RefCell::new(None) };
}

/// True while this thread runs a group whose ledger writes are batched.
pub(crate) fn active() -> bool {
    BATCH.with(|b| b.borrow().is_some())
}

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

/// Locks and reads the balance rows of `keys` (in key order, the order every writer
/// locks in) and adds them to the batch.
fn lock(conn: &mut PgConnection, batch: &mut Batch, keys: &BTreeSet<StockKey>) -> QueryResult<()> {
    let missing: Vec<StockKey> = keys
        .iter()
        .filter(|k| !batch.lots.contains_key(k))
        .copied()
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    let rows = PgStatement {
        parts: &[
            "SELECT b.site_id, b.item_id, b.lot, b.expires_on, b.quantity FROM unnest(",
            ", ",
            ") AS k (site_id, item_id) \
             JOIN balances AS b ON b.site_id = k.site_id AND b.item_id = k.item_id \
             ORDER BY b.site_id, b.item_id, b.lot FOR UPDATE OF b",
        ],
        params: vec![
            PgParam::BigInts(missing.iter().map(|k| k.site).collect()),
            PgParam::BigInts(missing.iter().map(|k| k.item).collect()),
        ],
    }
    .load::<LockedRow>(conn)?;
    for k in missing {
        batch.lots.entry(k).or_default();
    }
    for r in rows {
        let key = StockKey {
            site: r.site_id,
            item: r.item_id,
        };
        batch.existed.insert((key, r.lot.clone()));
        batch.lots.entry(key).or_default().push(LotBalance {
            lot: r.lot,
            expires_on: r.expires_on,
            quantity: r.quantity,
        });
    }
    Ok(())
}

/// Starts batching this thread's ledger writes, with the balances of `keys` locked;
/// `lines` is how many command lines the group holds.
pub(crate) fn start(
    conn: &mut PgConnection,
    keys: &BTreeSet<StockKey>,
    lines: usize,
) -> QueryResult<()> {
    let mut batch = Batch {
        first_draw: lines,
        ..Batch::default()
    };
    lock(conn, &mut batch, keys)?;
    BATCH.with(|b| *b.borrow_mut() = Some(batch));
    Ok(())
}

/// Ends batching; the gathered writes are dropped (the group is rolled back).
pub(crate) fn abandon() {
    BATCH.with(|b| *b.borrow_mut() = None);
}

/// The balances of `keys` as the group has left them, locking those not yet locked.
pub(crate) fn load(
    conn: &mut PgConnection,
    keys: &BTreeSet<StockKey>,
) -> QueryResult<Vec<(StockKey, LotBalance)>> {
    BATCH.with(|b| {
        let mut guard = b.borrow_mut();
        let batch = guard.as_mut().expect("a batch is active");
        lock(conn, batch, keys)?;
        Ok(keys
            .iter()
            .flat_map(|k| batch.lots[k].iter().map(move |l| (*k, l.clone())))
            .collect())
    })
}

/// Records a command's movements and the balances its book ends with; returns the
/// movement ids in order.
pub(crate) fn record(
    conn: &mut PgConnection,
    movements: &[MovementRow<'_>],
    book: &StockBook,
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    BATCH.with(|b| {
        let mut guard = b.borrow_mut();
        let batch = guard.as_mut().expect("a batch is active");
        if batch.ids.len() < movements.len() {
            // Enough for this command and, the first time, the rest of the group's.
            let want = (movements.len() - batch.ids.len()).max(batch.first_draw);
            batch.first_draw = 0;
            batch.ids.extend(draw_ids(conn, want)?);
        }
        let mut ids = Vec::with_capacity(movements.len());
        for m in movements {
            let id = batch.ids.pop_front().expect("ids were drawn");
            ids.push(id);
            batch.movements.push(id, m);
        }
        let mut by_key: BTreeMap<StockKey, Vec<LotBalance>> = BTreeMap::new();
        for (k, l) in book.balances() {
            by_key.entry(k).or_default().push(l.clone());
        }
        for (k, lots) in by_key {
            batch.lots.insert(k, lots);
            batch.dirty.insert(k);
        }
        batch.now = Some(now);
        Ok(ids)
    })
}

#[derive(QueryableByName)]
struct Drawn {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

/// `n` new movement ids. The sequence hands them out outside transactions, so ids a
/// rolled-back group drew are gaps, as they would be one by one.
fn draw_ids(conn: &mut PgConnection, n: usize) -> QueryResult<Vec<i64>> {
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

/// Writes what the group gathered, in one statement, and ends batching.
pub(crate) fn finish(conn: &mut PgConnection) -> QueryResult<()> {
    let Some(batch) = BATCH.with(|b| b.borrow_mut().take()) else {
        return Ok(());
    };
    if batch.movements.is_empty() && batch.dirty.is_empty() {
        return Ok(());
    }
    let mut updates = Columns::default();
    let mut inserts = Columns::default();
    for k in &batch.dirty {
        for l in &batch.lots[k] {
            let target = if batch.existed.contains(&(*k, l.lot.clone())) {
                &mut updates
            } else {
                &mut inserts
            };
            target.push(*k, l);
        }
    }
    WriteGroup {
        now: batch.now.unwrap_or_default(),
        updates,
        inserts,
        movements: batch.movements,
    }
    .execute(conn)
    .map(drop)
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
    fn push(&mut self, k: StockKey, l: &LotBalance) {
        self.site.push(k.site);
        self.item.push(k.item);
        self.lot.push(l.lot.clone());
        self.expires_on.push(l.expires_on);
        self.quantity.push(l.quantity);
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
        out.push_sql(
            ") INSERT INTO movements (id, kind, site_id, item_id, lot, expires_on, quantity, \
             counted, reason, transfer_id, reported_by, occurred_at, recorded_at, token_id, \
             token_name) SELECT * FROM ",
        );
        self.movements.bind(&mut out)?;
        Ok(())
    }
}

impl RunQueryDsl<PgConnection> for WriteGroup {}
