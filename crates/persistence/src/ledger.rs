//! Recording movements. Each command loads (and, on PostgreSQL, row-locks) the balances
//! it touches, lets the domain's `StockBook` decide the movements, then writes the
//! movements and the new balances in the caller's transaction, so a balance always
//! equals the sum of its movements.

use crate::catalogue::IdCache;
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::reads::transfer_by_id;
use crate::schema::{balances, transfer_lines, transfers};
use crate::statements::{
    BalanceWrite, InsertMovement, MovementRow, RecordMovements, StoredTime, UpdateBalance,
};
use crate::tokens::TokenRef;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use ppe_domain::commands::{
    CancelTransfer, Discard, Dispatch, IssueReport, Receipt, ReceiveTransfer, StockReport,
};
use ppe_domain::delivery::{Disposition, ShippedLine, Unsettled, settle};
use ppe_domain::import::ImportedCount;
use ppe_domain::ledger::{Movement, Recorded, TransferStatus};
use ppe_domain::site::SiteKind;
use ppe_domain::stock::{Entry, LotBalance, MovementKind, StockBook, StockError, StockKey};
use std::collections::{BTreeSet, HashMap};

/// Codes of the sites and items a command names, by id, for the answer.
struct Names<'a> {
    ids: &'a IdCache,
    sites: HashMap<i64, String>,
    items: HashMap<i64, String>,
}

impl<'a> Names<'a> {
    fn new(ids: &'a IdCache) -> Names<'a> {
        Names {
            ids,
            sites: HashMap::new(),
            items: HashMap::new(),
        }
    }

    fn site(
        &mut self,
        conn: &mut DbConnection,
        field: &str,
        code: &str,
    ) -> Result<(i64, SiteKind), StoreError> {
        let (id, kind) = self.ids.site(conn, field, code)?;
        self.sites.insert(id, code.to_owned());
        Ok((id, kind))
    }

    fn item(&mut self, conn: &mut DbConnection, field: &str, sku: &str) -> Result<i64, StoreError> {
        let id = self.ids.item(conn, field, sku)?;
        self.items.insert(id, sku.to_owned());
        Ok(id)
    }

    /// Names of sites and items known by id (a transfer's rows).
    fn by_ids(
        ids: &'a IdCache,
        conn: &mut DbConnection,
        sites: &[i64],
        items: impl IntoIterator<Item = i64>,
    ) -> Result<Names<'a>, StoreError> {
        let mut names = Names::new(ids);
        for &site in sites {
            let code = crate::schema::sites::table
                .find(site)
                .select(crate::schema::sites::code)
                .first::<String>(conn)?;
            names.sites.insert(site, code);
        }
        for item in items {
            if let std::collections::hash_map::Entry::Vacant(e) = names.items.entry(item) {
                e.insert(
                    crate::schema::items::table
                        .find(item)
                        .select(crate::schema::items::sku)
                        .first::<String>(conn)?,
                );
            }
        }
        Ok(names)
    }

    fn shortage(&self, e: StockError) -> StoreError {
        match e {
            StockError::Insufficient {
                key,
                lot,
                balance,
                requested,
            } => StoreError::InsufficientStock {
                site: self.sites.get(&key.site).cloned().unwrap_or_default(),
                item: self.items.get(&key.item).cloned().unwrap_or_default(),
                lot,
                balance,
                requested,
            },
        }
    }
}

#[derive(Queryable)]
struct BalanceRow {
    site_id: i64,
    item_id: i64,
    lot: String,
    expires_on: Option<NaiveDate>,
    quantity: i64,
}

/// The balances a command touches, and which lot rows already existed.
struct Loaded {
    book: StockBook,
    existing: BTreeSet<(StockKey, String)>,
}

/// Loads the balances of `keys`, locking their rows first (in key order, so two
/// writers never wait on each other in a cycle) with `FOR UPDATE` on PostgreSQL. On
/// SQLite the single writer connection already serialises writes.
fn load_book(conn: &mut DbConnection, keys: &BTreeSet<StockKey>) -> Result<Loaded, StoreError> {
    if crate::batch::active() {
        // Read once for the group; `existing` only matters to unbatched writes.
        let book = StockBook::new(crate::batch::load(conn, keys)?);
        return Ok(Loaded {
            book,
            existing: BTreeSet::new(),
        });
    }
    let rows = read_balances(conn, keys)?;
    let existing = rows.iter().map(|(k, b)| (*k, b.lot.clone())).collect();
    Ok(Loaded {
        book: StockBook::new(rows),
        existing,
    })
}

/// The lot balances of `keys`, in key order; on PostgreSQL their rows locked.
pub(crate) fn read_balances<'k>(
    conn: &mut DbConnection,
    keys: impl IntoIterator<Item = &'k StockKey>,
) -> diesel::QueryResult<Vec<(StockKey, LotBalance)>> {
    let mut rows = Vec::new();
    for k in keys {
        let q = balances::table
            .filter(
                balances::site_id
                    .eq(k.site)
                    .and(balances::item_id.eq(k.item)),
            )
            .select((
                balances::site_id,
                balances::item_id,
                balances::lot,
                balances::expires_on,
                balances::quantity,
            ));
        rows.extend(match conn {
            DbConnection::Postgresql(pg) => q.for_update().load::<BalanceRow>(pg)?,
            DbConnection::Sqlite(lite) => q.load::<BalanceRow>(lite)?,
        });
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            (
                StockKey {
                    site: r.site_id,
                    item: r.item_id,
                },
                LotBalance {
                    lot: r.lot,
                    expires_on: r.expires_on,
                    quantity: r.quantity,
                },
            )
        })
        .collect())
}

/// Every lot balance of the book, to be written back.
fn balance_writes<'a>(loaded: &'a Loaded) -> Vec<BalanceWrite<'a>> {
    loaded
        .book
        .balances()
        .map(|(k, b)| BalanceWrite {
            site: k.site,
            item: k.item,
            lot: &b.lot,
            expires_on: b.expires_on,
            quantity: b.quantity,
            existed: loaded.existing.contains(&(k, b.lot.clone())),
        })
        .collect()
}

/// Updates a lot balance that existed, inserts one that did not.
pub(crate) fn write_balance(
    conn: &mut DbConnection,
    b: &BalanceWrite<'_>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    match conn {
        DbConnection::Sqlite(lite) if b.existed => {
            UpdateBalance {
                row: b,
                now: StoredTime(now),
            }
            .execute(lite)?;
        }
        _ if b.existed => {
            diesel::update(balances::table.find((b.site, b.item, b.lot)))
                .set((
                    balances::quantity.eq(b.quantity),
                    balances::expires_on.eq(b.expires_on),
                    balances::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        _ => {
            diesel::insert_into(balances::table)
                .values((
                    balances::site_id.eq(b.site),
                    balances::item_id.eq(b.item),
                    balances::lot.eq(b.lot),
                    balances::expires_on.eq(b.expires_on),
                    balances::quantity.eq(b.quantity),
                    balances::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}

/// When a write is recorded, and the API token that makes it (none for writes made
/// outside the API, such as the demo seed). A bare time converts into a stamp.
#[derive(Debug, Clone)]
pub struct Stamp {
    pub at: DateTime<Utc>,
    pub by: Option<TokenRef>,
}

impl From<DateTime<Utc>> for Stamp {
    fn from(at: DateTime<Utc>) -> Stamp {
        Stamp { at, by: None }
    }
}

/// The parts every movement of one command shares.
struct Header<'a> {
    reported_by: &'a str,
    by: Option<&'a TokenRef>,
    occurred_at: DateTime<Utc>,
    recorded_at: DateTime<Utc>,
    reason: Option<&'a str>,
    transfer_id: Option<i64>,
}

fn movement_row<'a>(h: &Header<'a>, e: &'a Entry) -> MovementRow<'a> {
    MovementRow {
        kind: e.kind.as_str(),
        site: e.key.site,
        item: e.key.item,
        lot: &e.lot,
        expires_on: e.expires_on,
        quantity: e.delta,
        counted: e.counted,
        reason: h.reason,
        transfer_id: h.transfer_id,
        reported_by: h.reported_by,
        occurred_at: StoredTime(h.occurred_at.naive_utc()),
        recorded_at: StoredTime(h.recorded_at.naive_utc()),
        token_id: h.by.map(|t| t.id),
        token_name: h.by.map(|t| t.name.as_str()),
    }
}

/// Inserts the movements and writes back the balances; returns the movement ids in
/// entry order.
fn write_entries(
    conn: &mut DbConnection,
    loaded: &Loaded,
    entries: &[Entry],
    h: &Header<'_>,
) -> Result<Vec<i64>, StoreError> {
    let rows: Vec<MovementRow> = entries.iter().map(|e| movement_row(h, e)).collect();
    let now = h.recorded_at.naive_utc();
    if crate::batch::active() {
        return Ok(crate::batch::record(conn, &rows, &loaded.book, now)?);
    }
    let balances = balance_writes(loaded);
    if let DbConnection::Postgresql(pg) = conn
        && !rows.is_empty()
    {
        let mut ids = RecordMovements {
            movements: &rows,
            balances: &balances,
            now: StoredTime(now),
        }
        .load::<i64>(pg)?;
        // The ids come from one sequence, drawn row by row in VALUES order; RETURNING
        // does not promise that order, so sort them back into it.
        ids.sort_unstable();
        if ids.len() != rows.len() {
            return Err(StoreError::Database(
                diesel::result::Error::DeserializationError(
                    format!("{} movement ids for {} movements", ids.len(), rows.len()).into(),
                ),
            ));
        }
        return Ok(ids);
    }
    // SQLite, or a PostgreSQL command without movements.
    let ids = match conn {
        DbConnection::Sqlite(lite) => rows
            .iter()
            .map(|m| InsertMovement(m).get_result::<i64>(lite))
            .collect::<Result<Vec<_>, _>>()?,
        DbConnection::Postgresql(_) => Vec::new(),
    };
    for b in &balances {
        write_balance(conn, b, now)?;
    }
    Ok(ids)
}

fn to_movement(names: &Names<'_>, h: &Header<'_>, e: &Entry, id: i64) -> Movement {
    Movement {
        id,
        kind: e.kind,
        site: names.sites.get(&e.key.site).cloned().unwrap_or_default(),
        item: names.items.get(&e.key.item).cloned().unwrap_or_default(),
        lot: e.lot.clone(),
        expires_on: e.expires_on,
        quantity: e.delta,
        counted: e.counted,
        reason: h.reason.map(str::to_owned),
        transfer_id: h.transfer_id,
        reported_by: h.reported_by.to_owned(),
        token_id: h.by.map(|t| t.id),
        token_name: h.by.map(|t| t.name.clone()),
        occurred_at: h.occurred_at,
        recorded_at: h.recorded_at,
    }
}

fn lot(l: &Option<String>) -> Option<&str> {
    l.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// Resolves the lines' items, loads the book for them at `site` and runs `apply` per line.
fn with_lines<L>(
    conn: &mut DbConnection,
    names: &mut Names,
    site: i64,
    lines: &[L],
    sku: impl Fn(&L) -> &str,
    mut apply: impl FnMut(&mut StockBook, StockKey, &L) -> Result<Vec<Entry>, StockError>,
) -> Result<(Loaded, Vec<Entry>), StoreError> {
    let mut keyed = Vec::with_capacity(lines.len());
    for (i, l) in lines.iter().enumerate() {
        let item = names.item(conn, &format!("lines[{i}].item"), sku(l))?;
        keyed.push(StockKey { site, item });
    }
    let mut loaded = load_book(conn, &keyed.iter().copied().collect())?;
    let mut entries = Vec::new();
    for (k, l) in keyed.into_iter().zip(lines) {
        entries.extend(apply(&mut loaded.book, k, l).map_err(|e| names.shortage(e))?);
    }
    Ok((loaded, entries))
}

pub fn record_report(
    conn: &mut DbConnection,
    ids: &IdCache,
    cmd: &StockReport,
    now: impl Into<Stamp>,
) -> Result<Recorded, StoreError> {
    report_with_line_counts(conn, ids, cmd, now.into()).map(|(recorded, _)| recorded)
}

/// A stock report, and how many movements each of its lines made (in order).
fn report_with_line_counts(
    conn: &mut DbConnection,
    ids: &IdCache,
    cmd: &StockReport,
    now: Stamp,
) -> Result<(Recorded, Vec<usize>), StoreError> {
    let mut names = Names::new(ids);
    let (site, _) = names.site(conn, "site", cmd.site.trim())?;
    let mut per_line = Vec::with_capacity(cmd.lines.len());
    let (loaded, entries) = with_lines(
        conn,
        &mut names,
        site,
        &cmd.lines,
        |l| l.item.trim(),
        |b, k, l| {
            let e = b.count(k, lot(&l.lot), l.counted);
            per_line.push(e.len());
            Ok(e)
        },
    )?;
    let recorded = finish(
        conn,
        &names,
        &loaded,
        &entries,
        header(&cmd.reported_by, cmd.occurred_at, &now, None, None),
    )?;
    Ok((recorded, per_line))
}

/// A stock report whose lines are sheet lines `numbers`: what each line recorded.
pub(crate) fn record_report_by_line(
    conn: &mut DbConnection,
    ids: &IdCache,
    cmd: &StockReport,
    numbers: &[u64],
    now: Stamp,
) -> Result<Vec<ImportedCount>, StoreError> {
    let (recorded, per_line) = report_with_line_counts(conn, ids, cmd, now)?;
    let mut movements = recorded.movements.into_iter();
    Ok(cmd
        .lines
        .iter()
        .zip(per_line)
        .zip(numbers)
        .map(|((l, n), &line)| {
            let mine: Vec<Movement> = movements.by_ref().take(n).collect();
            ImportedCount {
                line,
                site: cmd.site.trim().to_owned(),
                item: l.item.trim().to_owned(),
                lot: lot(&l.lot).map(str::to_owned),
                counted: l.counted,
                adjustment: mine.iter().map(|m| m.quantity).sum(),
                movement_ids: mine.iter().map(|m| m.id).collect(),
            }
        })
        .collect())
}

pub fn record_receipt(
    conn: &mut DbConnection,
    ids: &IdCache,
    cmd: &Receipt,
    now: impl Into<Stamp>,
) -> Result<Recorded, StoreError> {
    let now = now.into();
    let mut names = Names::new(ids);
    let (site, kind) = names.site(conn, "site", cmd.site.trim())?;
    if kind != SiteKind::Warehouse {
        // Units receive transfers, not receipts: among warehouses there is no such site.
        return Err(StoreError::not_found("site", "warehouse", cmd.site.trim()));
    }
    let (loaded, entries) = with_lines(
        conn,
        &mut names,
        site,
        &cmd.lines,
        |l| l.item.trim(),
        |b, k, l| {
            Ok(b.put(
                k,
                MovementKind::Receipt,
                lot(&l.lot),
                l.expires_on,
                l.quantity,
            ))
        },
    )?;
    let h = header(
        &cmd.reported_by,
        cmd.occurred_at,
        &now,
        cmd.reference.as_deref(),
        None,
    );
    finish(conn, &names, &loaded, &entries, h)
}

pub fn record_issue(
    conn: &mut DbConnection,
    ids: &IdCache,
    cmd: &IssueReport,
    now: impl Into<Stamp>,
) -> Result<Recorded, StoreError> {
    let now = now.into();
    let mut names = Names::new(ids);
    let (site, _) = names.site(conn, "site", cmd.site.trim())?;
    let (loaded, entries) = with_lines(
        conn,
        &mut names,
        site,
        &cmd.lines,
        |l| l.item.trim(),
        |b, k, l| b.take(k, MovementKind::Issue, lot(&l.lot), l.quantity),
    )?;
    finish(
        conn,
        &names,
        &loaded,
        &entries,
        header(&cmd.reported_by, cmd.occurred_at, &now, None, None),
    )
}

pub fn record_discard(
    conn: &mut DbConnection,
    ids: &IdCache,
    cmd: &Discard,
    now: impl Into<Stamp>,
) -> Result<Recorded, StoreError> {
    let now = now.into();
    let mut names = Names::new(ids);
    let (site, _) = names.site(conn, "site", cmd.site.trim())?;
    let (loaded, entries) = with_lines(
        conn,
        &mut names,
        site,
        &cmd.lines,
        |l| l.item.trim(),
        |b, k, l| b.take(k, MovementKind::Discard, lot(&l.lot), l.quantity),
    )?;
    let h = header(
        &cmd.reported_by,
        cmd.occurred_at,
        &now,
        Some(cmd.reason.as_str()),
        None,
    );
    finish(conn, &names, &loaded, &entries, h)
}

fn header<'a>(
    reported_by: &'a str,
    occurred_at: Option<DateTime<Utc>>,
    now: &'a Stamp,
    reason: Option<&'a str>,
    transfer_id: Option<i64>,
) -> Header<'a> {
    Header {
        reported_by: reported_by.trim(),
        by: now.by.as_ref(),
        occurred_at: as_stored(occurred_at.unwrap_or(now.at)),
        recorded_at: as_stored(now.at),
        reason,
        transfer_id,
    }
}

/// `t` as the database gives it back. PostgreSQL keeps microseconds, counted from
/// 2000-01-01 and cut toward that epoch when bound (diesel's `Timestamp` binding);
/// SQLite keeps what it is given. A movement is answered with the times it is stored
/// with, so that its answer and a replay read back from the ledger are the same.
fn as_stored(t: DateTime<Utc>) -> DateTime<Utc> {
    let epoch = NaiveDate::from_ymd_opt(2000, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("a valid date")
        .and_utc();
    match (t - epoch).num_microseconds() {
        Some(us) => epoch + chrono::TimeDelta::microseconds(us),
        None => t,
    }
}

fn finish(
    conn: &mut DbConnection,
    names: &Names<'_>,
    loaded: &Loaded,
    entries: &[Entry],
    h: Header<'_>,
) -> Result<Recorded, StoreError> {
    let ids = write_entries(conn, loaded, entries, &h)?;
    let movements = entries
        .iter()
        .zip(ids)
        .map(|(e, id)| to_movement(names, &h, e, id))
        .collect();
    Ok(Recorded {
        movements,
        transfer: None,
    })
}

/// Takes stock out of a warehouse onto a transfer; it is in transit until received.
pub fn dispatch_transfer(
    conn: &mut DbConnection,
    ids: &IdCache,
    cmd: &Dispatch,
    now: impl Into<Stamp>,
) -> Result<Recorded, StoreError> {
    dispatch(conn, ids, cmd, now.into(), false)
}

/// A dispatch whose lines name exact lots, the unrecorded lot (`""`) included: a plan's
/// stop takes exactly the lots the plan allocated, never first-expiry-first-out over all.
pub(crate) fn dispatch_exact_lots(
    conn: &mut DbConnection,
    ids: &IdCache,
    cmd: &Dispatch,
    now: Stamp,
) -> Result<Recorded, StoreError> {
    dispatch(conn, ids, cmd, now, true)
}

fn dispatch(
    conn: &mut DbConnection,
    ids: &IdCache,
    cmd: &Dispatch,
    now: Stamp,
    exact_lots: bool,
) -> Result<Recorded, StoreError> {
    let mut names = Names::new(ids);
    let (from, from_kind) = names.site(conn, "from_site", cmd.from_site.trim())?;
    let (to, _) = names.site(conn, "to_site", cmd.to_site.trim())?;
    if from_kind != SiteKind::Warehouse {
        // Transfers leave from a warehouse: among warehouses there is no such site.
        return Err(StoreError::not_found(
            "from_site",
            "warehouse",
            cmd.from_site.trim(),
        ));
    }
    let active: bool = crate::schema::sites::table
        .find(to)
        .select(crate::schema::sites::active)
        .first(conn)?;
    if !active {
        return Err(StoreError::contradicts(
            "to_site",
            "is deactivated: it takes no deliveries",
        ));
    }
    let (loaded, entries) = with_lines(
        conn,
        &mut names,
        from,
        &cmd.lines,
        |l| l.item.trim(),
        |b, k, l| {
            let lot = if exact_lots {
                Some(l.lot.as_deref().unwrap_or(""))
            } else {
                lot(&l.lot)
            };
            b.take(k, MovementKind::TransferOut, lot, l.quantity)
        },
    )?;
    let h = header(&cmd.reported_by, cmd.occurred_at, &now, None, None);
    let transfer_id = diesel::insert_into(transfers::table)
        .values((
            transfers::from_site_id.eq(from),
            transfers::to_site_id.eq(to),
            transfers::status.eq(TransferStatus::Dispatched.as_str()),
            transfers::dispatched_at.eq(h.occurred_at.naive_utc()),
            transfers::dispatched_by.eq(h.reported_by),
            transfers::dispatched_token_id.eq(h.by.map(|t| t.id)),
            transfers::dispatched_token_name.eq(h.by.map(|t| t.name.as_str())),
        ))
        .returning(transfers::id)
        .get_result::<i64>(conn)?;
    // The lines are what actually left, lot by lot, so the receipt puts back the same lots.
    for (n, e) in entries.iter().enumerate() {
        diesel::insert_into(transfer_lines::table)
            .values((
                transfer_lines::transfer_id.eq(transfer_id),
                transfer_lines::line_no.eq(n as i32),
                transfer_lines::item_id.eq(e.key.item),
                transfer_lines::lot.eq(&e.lot),
                transfer_lines::expires_on.eq(e.expires_on),
                transfer_lines::quantity.eq(-e.delta),
            ))
            .execute(conn)?;
    }
    let h = Header {
        transfer_id: Some(transfer_id),
        ..h
    };
    let mut rec = finish(conn, &names, &loaded, &entries, h)?;
    rec.transfer = Some(
        transfer_by_id(conn, transfer_id)?
            .ok_or_else(|| StoreError::not_found("id", "transfer", transfer_id.to_string()))?,
    );
    Ok(rec)
}

/// Proof of delivery: the unit takes in what it accepted of each line; what it did not
/// accept goes back to the depot (`returned`) or is written off as lost in transit, as the
/// receiver says, and each line keeps its account. A transfer of a plan also moves the
/// plan's requests of that unit to delivered, and the plan to completed with its last stop.
pub fn receive_transfer(
    conn: &mut DbConnection,
    ids: &IdCache,
    id: i64,
    cmd: &ReceiveTransfer,
    now: impl Into<Stamp>,
) -> Result<Recorded, StoreError> {
    let now = now.into();
    let (from, to, status) = transfers::table
        .find(id)
        .select((
            transfers::from_site_id,
            transfers::to_site_id,
            transfers::status,
        ))
        .first::<(i64, i64, String)>(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found("id", "transfer", id.to_string()))?;
    let lines = transfer_lines::table
        .filter(transfer_lines::transfer_id.eq(id))
        .order(transfer_lines::line_no)
        .select((
            transfer_lines::line_no,
            transfer_lines::item_id,
            transfer_lines::lot,
            transfer_lines::expires_on,
            transfer_lines::quantity,
        ))
        .load::<(i32, i64, String, Option<NaiveDate>, i64)>(conn)?;
    let shipped: Vec<ShippedLine> = lines
        .iter()
        .map(|l| ShippedLine {
            line: l.0,
            quantity: l.4,
        })
        .collect();
    let outcomes = settle(&shipped, &cmd.lines, "lines").map_err(|u| match u {
        Unsettled::Invalid(v) => StoreError::Invalid(v),
        Unsettled::Contradicts(v) => StoreError::Contradicts(v),
    })?;
    let whole = outcomes.iter().all(|o| o.missing.is_none());
    let new_status = if whole {
        TransferStatus::Received
    } else {
        TransferStatus::ReceivedWithDiscrepancy
    };
    // Claim the transfer first: the conditional update lets exactly one receiver win.
    let h = header(&cmd.reported_by, cmd.occurred_at, &now, None, Some(id));
    let claimed = diesel::update(
        transfers::table
            .find(id)
            .filter(transfers::status.eq(TransferStatus::Dispatched.as_str())),
    )
    .set((
        transfers::status.eq(new_status.as_str()),
        transfers::received_at.eq(Some(h.occurred_at.naive_utc())),
        transfers::received_by.eq(Some(h.reported_by)),
        transfers::received_token_id.eq(h.by.map(|t| t.id)),
        transfers::received_token_name.eq(h.by.map(|t| t.name.as_str())),
    ))
    .execute(conn)?;
    if claimed == 0 {
        return Err(StoreError::Conflict(format!(
            "transfer {id} is already {status}"
        )));
    }
    for o in &outcomes {
        diesel::update(transfer_lines::table.find((id, o.line)))
            .set((
                transfer_lines::received.eq(Some(o.accepted)),
                transfer_lines::outcome.eq(o.missing.map(|m| m.1.as_str())),
                transfer_lines::disposition.eq(o.missing.map(|m| m.2.as_str())),
                transfer_lines::note.eq(o.note.as_deref()),
            ))
            .execute(conn)?;
    }
    let names = Names::by_ids(ids, conn, &[from, to], lines.iter().map(|l| l.1))?;
    // The unit's balances, and the depot's only for lines the driver takes back.
    let mut keys: BTreeSet<StockKey> = lines
        .iter()
        .map(|(_, item, ..)| StockKey {
            site: to,
            item: *item,
        })
        .collect();
    for ((_, item, ..), o) in lines.iter().zip(&outcomes) {
        if matches!(o.missing, Some((_, _, Disposition::Returned))) {
            keys.insert(StockKey {
                site: from,
                item: *item,
            });
        }
    }
    let mut loaded = load_book(conn, &keys)?;
    let mut at_unit = Vec::new();
    let mut at_depot = Vec::new();
    for ((_, item, lot, expires_on, _), o) in lines.iter().zip(&outcomes) {
        let lot = Some(lot.as_str()).filter(|l| !l.is_empty());
        if o.accepted > 0 {
            at_unit.extend(loaded.book.put(
                StockKey {
                    site: to,
                    item: *item,
                },
                MovementKind::TransferIn,
                lot,
                *expires_on,
                o.accepted,
            ));
        }
        match o.missing {
            Some((q, _, Disposition::Returned)) => at_depot.extend(loaded.book.put(
                StockKey {
                    site: from,
                    item: *item,
                },
                MovementKind::TransferReturn,
                lot,
                *expires_on,
                q,
            )),
            // Written off in transit: no stock moves, but the unit's ledger says so (and
            // its stock in transit visibly ended), with a movement of zero.
            Some((_, _, Disposition::Lost)) => at_unit.push(Entry {
                key: StockKey {
                    site: to,
                    item: *item,
                },
                kind: MovementKind::TransferLoss,
                lot: lot.unwrap_or("").to_owned(),
                expires_on: *expires_on,
                delta: 0,
                counted: None,
            }),
            None => {}
        }
    }
    let mut entries = at_unit;
    entries.extend(at_depot);
    let mut rec = finish(conn, &names, &loaded, &entries, h)?;
    let accepted: BTreeSet<i64> = lines
        .iter()
        .zip(&outcomes)
        .filter(|(_, o)| o.accepted > 0)
        .map(|(l, _)| l.1)
        .collect();
    close_plan_stop(conn, id, to, &accepted, now.at)?;
    rec.transfer = transfer_by_id(conn, id)?;
    Ok(rec)
}

/// A dispatched transfer that never left: every line goes back on hand at the depot.
pub fn cancel_transfer(
    conn: &mut DbConnection,
    ids: &IdCache,
    id: i64,
    cmd: &CancelTransfer,
    now: impl Into<Stamp>,
) -> Result<Recorded, StoreError> {
    let now = now.into();
    let (from, status) = transfers::table
        .find(id)
        .select((transfers::from_site_id, transfers::status))
        .first::<(i64, String)>(conn)
        .optional()?
        .ok_or_else(|| StoreError::not_found("id", "transfer", id.to_string()))?;
    let claimed = diesel::update(
        transfers::table
            .find(id)
            .filter(transfers::status.eq(TransferStatus::Dispatched.as_str())),
    )
    .set(transfers::status.eq(TransferStatus::Cancelled.as_str()))
    .execute(conn)?;
    if claimed == 0 {
        return Err(StoreError::Conflict(format!(
            "transfer {id} is already {status}; only a dispatched transfer can be cancelled"
        )));
    }
    let lines = transfer_lines::table
        .filter(transfer_lines::transfer_id.eq(id))
        .order(transfer_lines::line_no)
        .select((
            transfer_lines::item_id,
            transfer_lines::lot,
            transfer_lines::expires_on,
            transfer_lines::quantity,
        ))
        .load::<(i64, String, Option<NaiveDate>, i64)>(conn)?;
    let names = Names::by_ids(ids, conn, &[from], lines.iter().map(|l| l.0))?;
    let keys = lines
        .iter()
        .map(|(item, ..)| StockKey {
            site: from,
            item: *item,
        })
        .collect();
    let mut loaded = load_book(conn, &keys)?;
    let mut entries = Vec::new();
    for (item, lot, expires_on, qty) in &lines {
        let lot = Some(lot.as_str()).filter(|l| !l.is_empty());
        entries.extend(loaded.book.put(
            StockKey {
                site: from,
                item: *item,
            },
            MovementKind::TransferReturn,
            lot,
            *expires_on,
            *qty,
        ));
    }
    let h = header(
        &cmd.reported_by,
        None,
        &now,
        Some(cmd.reason.as_str()),
        Some(id),
    );
    let mut rec = finish(conn, &names, &loaded, &entries, h)?;
    let to = transfers::table
        .find(id)
        .select(transfers::to_site_id)
        .first::<i64>(conn)?;
    reopen_plan_stop(conn, id, to, now.at)?;
    close_plan_if_done(conn, id, now.at)?;
    rec.transfer = transfer_by_id(conn, id)?;
    Ok(rec)
}

/// After a receipt: the plan's requests of the unit are delivered (or open again when an
/// item of theirs did not arrive), and the plan completed once none of its transfers is
/// still in transit.
fn close_plan_stop(
    conn: &mut DbConnection,
    transfer: i64,
    unit: i64,
    accepted_items: &BTreeSet<i64>,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(plan) = plan_of(conn, transfer)? else {
        return Ok(());
    };
    crate::requests::settle_planned(conn, plan, unit, accepted_items, at.naive_utc())?;
    close_plan_if_done(conn, transfer, at)
}

/// After a cancelled stop: its unit's requests are open again.
fn reopen_plan_stop(
    conn: &mut DbConnection,
    transfer: i64,
    unit: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(plan) = plan_of(conn, transfer)? else {
        return Ok(());
    };
    use crate::schema::supply_requests as r;
    diesel::update(
        r::table
            .filter(r::plan_id.eq(plan))
            .filter(r::site_id.eq(unit))
            .filter(r::status.eq(ppe_domain::requests::RequestStatus::Planned.as_str())),
    )
    .set((
        r::status.eq(ppe_domain::requests::RequestStatus::Open.as_str()),
        r::plan_id.eq(None::<i64>),
        r::updated_at.eq(at.naive_utc()),
    ))
    .execute(conn)?;
    Ok(())
}

fn plan_of(conn: &mut DbConnection, transfer: i64) -> Result<Option<i64>, StoreError> {
    Ok(transfers::table
        .find(transfer)
        .select(transfers::plan_id)
        .first::<Option<i64>>(conn)?)
}

fn close_plan_if_done(
    conn: &mut DbConnection,
    transfer: i64,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let Some(plan) = plan_of(conn, transfer)? else {
        return Ok(());
    };
    // Receipts of one plan's stops run on different writers (one per unit): lock the plan
    // first, so the last of two concurrent receipts counts after the other committed.
    if let DbConnection::Postgresql(pg) = conn {
        crate::schema::delivery_plans::table
            .find(plan)
            .select(crate::schema::delivery_plans::id)
            .for_update()
            .load::<i64>(pg)?;
    }
    let open: i64 = transfers::table
        .filter(transfers::plan_id.eq(plan))
        .filter(transfers::status.eq(TransferStatus::Dispatched.as_str()))
        .count()
        .get_result(conn)?;
    if open == 0 {
        crate::plans::complete(conn, plan, at)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::as_stored;
    use chrono::{DateTime, Utc};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn times_are_cut_to_microseconds_toward_the_year_2000() {
        assert_eq!(
            as_stored(at("2026-12-01T08:30:00.123456789Z")),
            at("2026-12-01T08:30:00.123456Z")
        );
        // Before the epoch the cut goes up, as PostgreSQL's binding does.
        assert_eq!(
            as_stored(at("1999-12-31T23:59:59.000000999Z")),
            at("1999-12-31T23:59:59.000001Z")
        );
        let whole = at("2026-12-01T08:30:00.5Z");
        assert_eq!(as_stored(whole), whole);
    }
}
