//! The ledger writes of one group commit gathered into a few statements.
//!
//! Written one by one, every ledger command costs a read of its balances, a movement
//! insert, a balance write and a key insert: on PostgreSQL two round trips, each of
//! which costs more in the kernel than the row work does on a database that shares the
//! service's cores; on SQLite a statement setup, a statement journal and, for the
//! movement, a result table per row. While a group runs its fast pass, the lane keeps
//! the group's balances here instead: the balances the group's commands name are read
//! (on PostgreSQL locked, in one statement) before the first command runs, each command
//! reads and updates them in memory, its movement ids come from a block taken at once,
//! and at the end a few statements write every movement, every changed balance and the
//! group's idempotency keys. On PostgreSQL that is one statement, and one at the start
//! (after the site locks) locks and reads the group's balances and draws its ids.
//! A group whose fast pass fails runs again write by write without the batch, as before.
//!
//! The batch belongs to the thread that runs the group (a lane), so the ledger's code
//! asks [`active`] rather than taking it as a parameter through every command.
//!
//! On SQLite the lane also remembers, between groups, the balances its batched groups
//! committed, and reads only the others: the lane is the database's one writer in this
//! process. What it remembers is dropped whenever anything else may have changed a
//! balance: a group that was not batched or failed, and any commit by another
//! connection, which SQLite's `PRAGMA data_version` reveals. That pragma is the group's
//! first read, so it also fixes the group's snapshot: a commit by another process after
//! it makes the group's first write fail (`SQLITE_BUSY_SNAPSHOT`), and the group then
//! runs again write by write, reading every balance.

mod postgres;
mod sqlite;

use crate::connection::DbConnection;
use crate::idempotency::{self, KeyRow};
use crate::statements::{BalanceWrite, MovementRow, StoredTime};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::QueryResult;
use ppe_domain::stock::{LotBalance, StockBook, StockKey};
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// A movement as the batch keeps it until the group's end.
struct KeptMovement {
    id: i64,
    kind: String,
    site: i64,
    item: i64,
    lot: String,
    expires_on: Option<NaiveDate>,
    quantity: i64,
    counted: Option<i64>,
    reason: Option<String>,
    transfer_id: Option<i64>,
    reported_by: String,
    occurred_at: StoredTime,
    recorded_at: StoredTime,
    token_id: Option<i64>,
    token_name: Option<String>,
}

impl KeptMovement {
    fn new(id: i64, m: &MovementRow<'_>) -> KeptMovement {
        KeptMovement {
            id,
            kind: m.kind.to_owned(),
            site: m.site,
            item: m.item,
            lot: m.lot.to_owned(),
            expires_on: m.expires_on,
            quantity: m.quantity,
            counted: m.counted,
            reason: m.reason.map(str::to_owned),
            transfer_id: m.transfer_id,
            reported_by: m.reported_by.to_owned(),
            occurred_at: m.occurred_at,
            recorded_at: m.recorded_at,
            token_id: m.token_id,
            token_name: m.token_name.map(str::to_owned),
        }
    }

    fn row(&self) -> MovementRow<'_> {
        MovementRow {
            kind: &self.kind,
            site: self.site,
            item: self.item,
            lot: &self.lot,
            expires_on: self.expires_on,
            quantity: self.quantity,
            counted: self.counted,
            reason: self.reason.as_deref(),
            transfer_id: self.transfer_id,
            reported_by: &self.reported_by,
            occurred_at: self.occurred_at,
            recorded_at: self.recorded_at,
            token_id: self.token_id,
            token_name: self.token_name.as_deref(),
        }
    }
}

#[derive(Default)]
struct Batch {
    /// The lots of every key the group has read, as its commands have left them.
    lots: BTreeMap<StockKey, Vec<LotBalance>>,
    /// Lots that existed before the group: updated at the end; the others inserted.
    existed: HashSet<(StockKey, String)>,
    /// Keys a command wrote to.
    dirty: BTreeSet<StockKey>,
    /// Movement ids taken and not used yet.
    ids: VecDeque<i64>,
    /// The last movement id taken (SQLite counts on from it).
    last_id: Option<i64>,
    /// How many ids the first draw takes: about what the group will use, so that
    /// few are drawn and left unused.
    first_draw: usize,
    movements: Vec<KeptMovement>,
    /// When the last command was recorded: the balances' `updated_at`.
    now: Option<NaiveDateTime>,
    /// SQLite: the committed balances the lane remembers, of keys not read yet.
    known: HashMap<StockKey, Vec<LotBalance>>,
    /// SQLite: the database's `data_version` as this group found it.
    version: Option<i64>,
}

impl Batch {
    /// Reads (on PostgreSQL: locks and reads) the balances of those `keys` not read yet.
    fn read(&mut self, conn: &mut DbConnection, keys: &BTreeSet<StockKey>) -> QueryResult<()> {
        let missing: Vec<StockKey> = keys
            .iter()
            .filter(|k| !self.lots.contains_key(k))
            .copied()
            .collect();
        let mut unread = Vec::new();
        for k in missing {
            match self.known.remove(&k) {
                Some(lots) => self.keep(vec![k], lots.into_iter().map(|l| (k, l)).collect()),
                None => unread.push(k),
            }
        }
        let missing = unread;
        if missing.is_empty() {
            return Ok(());
        }
        let rows = match conn {
            DbConnection::Postgresql(pg) => postgres::lock(pg, &missing)?,
            DbConnection::Sqlite(_) => crate::ledger::read_balances(conn, &missing)?,
        };
        self.keep(missing, rows);
        Ok(())
    }

    /// Keeps the lots read for `keys` (a key without rows has none yet).
    fn keep(&mut self, keys: Vec<StockKey>, rows: Vec<(StockKey, LotBalance)>) {
        for k in keys {
            self.lots.entry(k).or_default();
        }
        for (key, lot) in rows {
            self.existed.insert((key, lot.lot.clone()));
            self.lots.entry(key).or_default().push(lot);
        }
    }

    /// `n` more movement ids at the back of the queue.
    fn draw(&mut self, conn: &mut DbConnection, n: usize) -> QueryResult<()> {
        let drawn = match conn {
            DbConnection::Postgresql(pg) => postgres::draw_ids(pg, n)?,
            DbConnection::Sqlite(lite) => {
                let last = match self.last_id {
                    Some(id) => id,
                    None => sqlite::last_id(lite)?,
                };
                (last + 1..=last + n as i64).collect()
            }
        };
        self.last_id = drawn.last().copied().or(self.last_id);
        self.ids.extend(drawn);
        Ok(())
    }

    /// Every lot of the keys the group wrote to, as it leaves them.
    fn changed(&self) -> Vec<BalanceWrite<'_>> {
        self.dirty
            .iter()
            .flat_map(|k| {
                self.lots[k].iter().map(|l| BalanceWrite {
                    site: k.site,
                    item: k.item,
                    lot: &l.lot,
                    expires_on: l.expires_on,
                    quantity: l.quantity,
                    existed: self.existed.contains(&(*k, l.lot.clone())),
                })
            })
            .collect()
    }

    /// SQLite: what the lane will remember once this group commits: every balance it
    /// read or wrote, as it leaves them, and those remembered before that it did not
    /// touch.
    fn remembered(&mut self) -> Option<Remembered> {
        let version = self.version?;
        let mut lots = std::mem::take(&mut self.known);
        lots.extend(self.lots.iter().map(|(k, l)| (*k, l.clone())));
        (lots.len() <= MAX_REMEMBERED).then_some(Remembered { version, lots })
    }
}

/// SQLite: balances a lane's batched groups committed, and the `data_version` they
/// were committed at (a connection's own commits leave it as it is).
struct Remembered {
    version: i64,
    lots: HashMap<StockKey, Vec<LotBalance>>,
}

/// Stock keys a lane remembers at most (a few hundred bytes each); beyond, it starts
/// over and reads again.
const MAX_REMEMBERED: usize = 100_000;

thread_local! {
    static BATCH: RefCell<Option<Batch>> = const { RefCell::new(None) };
    /// What the lane remembers between groups.
    static REMEMBERED: RefCell<Option<Remembered>> = const { RefCell::new(None) };
    /// What it will remember if the running group commits.
    static PENDING: RefCell<Option<Remembered>> = const { RefCell::new(None) };
}

/// True while this thread runs a group whose ledger writes are batched.
pub(crate) fn active() -> bool {
    BATCH.with(|b| b.borrow().is_some())
}

fn with_batch<T>(f: impl FnOnce(&mut Batch) -> T) -> T {
    BATCH.with(|b| f(b.borrow_mut().as_mut().expect("a batch is active")))
}

/// Starts batching this thread's ledger writes, with the balances of `keys` read (and
/// on PostgreSQL locked, in key order, the order every writer locks in); `lines` is
/// how many command lines the group holds. On PostgreSQL the group's movement ids are
/// drawn in the same statement.
pub(crate) fn start(
    conn: &mut DbConnection,
    keys: &BTreeSet<StockKey>,
    lines: usize,
) -> QueryResult<()> {
    let mut batch = Batch {
        first_draw: lines,
        ..Batch::default()
    };
    match conn {
        DbConnection::Postgresql(pg) => {
            let keys: Vec<StockKey> = keys.iter().copied().collect();
            let opening = postgres::open(pg, &keys, lines)?;
            batch.keep(keys, opening.lots);
            batch.ids.extend(opening.ids);
            batch.first_draw = 0;
        }
        DbConnection::Sqlite(lite) => {
            let version = sqlite::data_version(lite)?;
            let remembered = REMEMBERED.with(|r| r.borrow_mut().take());
            if let Some(r) = remembered.filter(|r| r.version == version) {
                batch.known = r.lots;
            }
            batch.version = Some(version);
            batch.read(conn, keys)?;
        }
    }
    BATCH.with(|b| *b.borrow_mut() = Some(batch));
    Ok(())
}

/// The lots the batch holds for `key`, in the order it keeps them.
#[cfg(test)]
pub(crate) fn lots_of(key: StockKey) -> Vec<LotBalance> {
    with_batch(|b| b.lots.get(&key).cloned().unwrap_or_default())
}

/// Ends the group's batching, whatever ended its transaction. When a batched group
/// `committed`, the lane remembers its balances; otherwise (it failed, or was not
/// batched and may have written balances by other statements) it forgets them all.
pub(crate) fn end(committed: bool) {
    BATCH.with(|b| *b.borrow_mut() = None);
    let pending = PENDING.with(|p| p.borrow_mut().take());
    REMEMBERED.with(|r| *r.borrow_mut() = pending.filter(|_| committed));
}

/// The balances of `keys` as the group has left them, reading those not yet read.
pub(crate) fn load(
    conn: &mut DbConnection,
    keys: &BTreeSet<StockKey>,
) -> QueryResult<Vec<(StockKey, LotBalance)>> {
    with_batch(|batch| {
        batch.read(conn, keys)?;
        Ok(keys
            .iter()
            .flat_map(|k| batch.lots[k].iter().map(move |l| (*k, l.clone())))
            .collect())
    })
}

/// Records a command's movements and the balances its book ends with; returns the
/// movement ids in order.
pub(crate) fn record(
    conn: &mut DbConnection,
    movements: &[MovementRow<'_>],
    book: &StockBook,
    now: NaiveDateTime,
) -> QueryResult<Vec<i64>> {
    with_batch(|batch| {
        if batch.ids.len() < movements.len() {
            // Enough for this command and, the first time, the rest of the group's.
            let want = (movements.len() - batch.ids.len()).max(batch.first_draw);
            batch.first_draw = 0;
            batch.draw(conn, want)?;
        }
        let mut ids = Vec::with_capacity(movements.len());
        for m in movements {
            let id = batch.ids.pop_front().expect("ids were drawn");
            ids.push(id);
            batch.movements.push(KeptMovement::new(id, m));
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

/// Writes what the group gathered and the group's idempotency `keys`, and ends
/// batching; without a batch, writes the keys alone.
pub(crate) fn finish(conn: &mut DbConnection, keys: &[KeyRow]) -> QueryResult<()> {
    let mut batch = BATCH.with(|b| b.borrow_mut().take());
    let remembered = batch.as_mut().and_then(Batch::remembered);
    PENDING.with(|p| *p.borrow_mut() = remembered);
    let Some(batch) = batch.filter(|b| !b.movements.is_empty() || !b.dirty.is_empty()) else {
        return idempotency::insert_all(conn, keys);
    };
    let now = batch.now.unwrap_or_default();
    let changed = batch.changed();
    match conn {
        DbConnection::Postgresql(pg) => postgres::write(pg, now, &changed, &batch.movements, keys),
        DbConnection::Sqlite(_) => {
            sqlite::write(conn, now, &changed, &batch.movements)?;
            idempotency::insert_all(conn, keys)
        }
    }
}
