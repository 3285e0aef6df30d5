//! Read models: balances, the movement ledger with cursor pagination, transfers.

use crate::catalogue::{parse_text, utc};
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::{balances, items, movements, sites, transfer_lines, transfers};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use ppe_domain::ledger::{Balance, Discrepancy, Movement, Transfer, TransferLine, TransferStatus};
use ppe_domain::stock::MovementKind;

type BalanceTuple = (
    String,
    String,
    String,
    Option<NaiveDate>,
    i64,
    NaiveDateTime,
);

fn balance((site, item, lot, expires_on, quantity, updated_at): BalanceTuple) -> Balance {
    Balance {
        site,
        item,
        lot,
        expires_on,
        quantity,
        updated_at: utc(updated_at),
    }
}

/// Which balances to list: of one site (by item), or of one item (by site).
enum BalancesOf {
    Site(i64),
    Item(i64),
}

fn load_balances(conn: &mut DbConnection, of: BalancesOf) -> Result<Vec<Balance>, StoreError> {
    let q = balances::table
        .inner_join(sites::table)
        .inner_join(items::table)
        .select((
            sites::code,
            items::sku,
            balances::lot,
            balances::expires_on,
            balances::quantity,
            balances::updated_at,
        ))
        .into_boxed();
    let q = match of {
        BalancesOf::Site(id) => q
            .filter(balances::site_id.eq(id))
            .order((items::sku, balances::lot)),
        BalancesOf::Item(id) => q
            .filter(balances::item_id.eq(id))
            .order((sites::code, balances::lot)),
    };
    Ok(q.load::<BalanceTuple>(conn)?
        .into_iter()
        .map(balance)
        .collect())
}

/// Every lot balance of one site, by item SKU; NotFound when the site does not exist.
pub fn balances_of_site(conn: &mut DbConnection, code: &str) -> Result<Vec<Balance>, StoreError> {
    let (site_id, _) = crate::catalogue::site_ref(conn, "site", code)?;
    load_balances(conn, BalancesOf::Site(site_id))
}

/// Every lot balance of one item across sites, by site code.
pub fn balances_of_item(conn: &mut DbConnection, sku: &str) -> Result<Vec<Balance>, StoreError> {
    let item_id = crate::catalogue::item_id(conn, "item", sku)?;
    load_balances(conn, BalancesOf::Item(item_id))
}

#[derive(Debug, Clone, Default)]
pub struct MovementFilter {
    pub site: Option<String>,
    pub item: Option<String>,
    pub kind: Option<MovementKind>,
    /// `occurred_at` at or after.
    pub from: Option<DateTime<Utc>>,
    /// `occurred_at` before.
    pub to: Option<DateTime<Utc>>,
    /// Only movements with a larger id (the cursor).
    pub after_id: Option<i64>,
    pub limit: i64,
}

type MovementTuple = (
    i64,
    String,
    String,
    String,
    String,
    Option<NaiveDate>,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    String,
    NaiveDateTime,
    NaiveDateTime,
    Option<i64>,
    Option<String>,
);

/// The columns of a [`MovementTuple`], from movements joined with sites and items.
macro_rules! movement_columns {
    () => {
        (
            movements::id,
            movements::kind,
            sites::code,
            items::sku,
            movements::lot,
            movements::expires_on,
            movements::quantity,
            movements::counted,
            movements::reason,
            movements::transfer_id,
            movements::reported_by,
            movements::occurred_at,
            movements::recorded_at,
            movements::token_id,
            movements::token_name,
        )
    };
}

/// One page of the ledger in recording order, and whether more follow.
pub fn movements_page(
    conn: &mut DbConnection,
    f: &MovementFilter,
) -> Result<(Vec<Movement>, bool), StoreError> {
    let mut q = movements::table
        .inner_join(sites::table)
        .inner_join(items::table)
        .into_boxed();
    if let Some(code) = &f.site {
        let (id, _) = crate::catalogue::site_ref(conn, "site", code)?;
        q = q.filter(movements::site_id.eq(id));
    }
    if let Some(sku) = &f.item {
        let id = crate::catalogue::item_id(conn, "item", sku)?;
        q = q.filter(movements::item_id.eq(id));
    }
    if let Some(k) = f.kind {
        q = q.filter(movements::kind.eq(k.as_str()));
    }
    if let Some(t) = f.from {
        q = q.filter(movements::occurred_at.ge(t.naive_utc()));
    }
    if let Some(t) = f.to {
        q = q.filter(movements::occurred_at.lt(t.naive_utc()));
    }
    if let Some(id) = f.after_id {
        q = q.filter(movements::id.gt(id));
    }
    let rows = q
        .order(movements::id)
        .limit(f.limit + 1)
        .select(movement_columns!())
        .load::<MovementTuple>(conn)?;
    let more = rows.len() as i64 > f.limit;
    let page = rows
        .into_iter()
        .take(f.limit as usize)
        .map(movement)
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok((page, more))
}

fn movement(r: MovementTuple) -> Result<Movement, StoreError> {
    Ok(Movement {
        id: r.0,
        kind: parse_text(&r.1)?,
        site: r.2,
        item: r.3,
        lot: r.4,
        expires_on: r.5,
        quantity: r.6,
        counted: r.7,
        reason: r.8,
        transfer_id: r.9,
        reported_by: r.10,
        token_id: r.13,
        token_name: r.14,
        occurred_at: utc(r.11),
        recorded_at: utc(r.12),
    })
}

/// The movements with these ids, in the order given; an id the ledger does not hold
/// is an error (movements are never deleted).
pub(crate) fn movements_by_ids(
    conn: &mut DbConnection,
    ids: &[i64],
) -> Result<Vec<Movement>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut found: std::collections::HashMap<i64, Movement> = movements::table
        .inner_join(sites::table)
        .inner_join(items::table)
        .filter(movements::id.eq_any(ids))
        .select(movement_columns!())
        .load::<MovementTuple>(conn)?
        .into_iter()
        .map(|r| movement(r).map(|m| (m.id, m)))
        .collect::<Result<_, StoreError>>()?;
    ids.iter()
        .map(|id| {
            found.remove(id).ok_or_else(|| {
                StoreError::Encode(format!("movement {id} of a stored answer is missing"))
            })
        })
        .collect()
}

type TransferTuple = (
    i64,
    i64,
    i64,
    String,
    NaiveDateTime,
    String,
    Option<NaiveDateTime>,
    Option<String>,
    (Option<i64>, Option<String>, Option<i64>, Option<String>),
    (Option<i64>, Option<i32>),
);

fn site_code(conn: &mut DbConnection, id: i64) -> Result<String, StoreError> {
    Ok(sites::table.find(id).select(sites::code).first(conn)?)
}

fn transfer(conn: &mut DbConnection, t: TransferTuple) -> Result<Transfer, StoreError> {
    let lines = transfer_lines::table
        .inner_join(items::table)
        .filter(transfer_lines::transfer_id.eq(t.0))
        .order(transfer_lines::line_no)
        .select((
            transfer_lines::line_no,
            items::sku,
            transfer_lines::lot,
            transfer_lines::expires_on,
            transfer_lines::quantity,
            (
                transfer_lines::received,
                transfer_lines::outcome,
                transfer_lines::disposition,
                transfer_lines::note,
            ),
        ))
        .load::<LineTuple>(conn)?
        .into_iter()
        .map(
            |(line, item, lot, expires_on, quantity, (received, outcome, disposition, note))| {
                Ok(TransferLine {
                    line,
                    item,
                    lot,
                    expires_on,
                    quantity,
                    received,
                    outcome: outcome.as_deref().map(parse_text).transpose()?,
                    disposition: disposition.as_deref().map(parse_text).transpose()?,
                    note,
                })
            },
        )
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Transfer {
        id: t.0,
        from_site: site_code(conn, t.1)?,
        to_site: site_code(conn, t.2)?,
        status: parse_text(&t.3)?,
        dispatched_at: utc(t.4),
        dispatched_by: t.5,
        received_at: t.6.map(utc),
        received_by: t.7,
        dispatched_token_id: t.8.0,
        dispatched_token_name: t.8.1,
        received_token_id: t.8.2,
        received_token_name: t.8.3,
        plan_id: t.9.0,
        plan_stop: t.9.1,
        lines,
    })
}

type LineTuple = (
    i32,
    String,
    String,
    Option<NaiveDate>,
    i64,
    (Option<i64>, Option<String>, Option<String>, Option<String>),
);

/// Lines that did not arrive whole, newest transfer first; optionally of one site (either
/// end) or one plan.
pub fn discrepancies(
    conn: &mut DbConnection,
    site: Option<&str>,
    plan: Option<i64>,
    limit: i64,
) -> Result<Vec<Discrepancy>, StoreError> {
    let mut q = transfer_lines::table
        .inner_join(transfers::table)
        .filter(transfer_lines::outcome.is_not_null())
        .into_boxed();
    if let Some(code) = site {
        let (id, _) = crate::catalogue::site_ref(conn, "site", code)?;
        q = q.filter(
            transfers::from_site_id
                .eq(id)
                .or(transfers::to_site_id.eq(id)),
        );
    }
    if let Some(p) = plan {
        q = q.filter(transfers::plan_id.eq(p));
    }
    let ids: Vec<i64> = q
        .select(transfers::id)
        .distinct()
        .order(transfers::id.desc())
        .limit(limit)
        .load(conn)?;
    let mut out = Vec::new();
    for id in ids {
        let Some(t) = transfer_by_id(conn, id)? else {
            continue;
        };
        for l in &t.lines {
            if let (Some(received), Some(outcome), Some(disposition)) =
                (l.received, l.outcome, l.disposition)
            {
                out.push(Discrepancy {
                    transfer_id: t.id,
                    plan_id: t.plan_id,
                    from_site: t.from_site.clone(),
                    to_site: t.to_site.clone(),
                    line: l.line,
                    item: l.item.clone(),
                    lot: l.lot.clone(),
                    shipped: l.quantity,
                    received,
                    missing: l.quantity - received,
                    outcome,
                    disposition,
                    note: l.note.clone(),
                    received_at: t.received_at,
                    received_by: t.received_by.clone(),
                });
            }
        }
    }
    Ok(out)
}

/// The tokens that dispatched and received a transfer.
type TransferTokenColumns = (
    transfers::dispatched_token_id,
    transfers::dispatched_token_name,
    transfers::received_token_id,
    transfers::received_token_name,
);

/// The delivery plan a transfer was dispatched under, and its stop.
type TransferPlanColumns = (transfers::plan_id, transfers::plan_stop);

const TRANSFER_COLUMNS: (
    transfers::id,
    transfers::from_site_id,
    transfers::to_site_id,
    transfers::status,
    transfers::dispatched_at,
    transfers::dispatched_by,
    transfers::received_at,
    transfers::received_by,
    TransferTokenColumns,
    TransferPlanColumns,
) = (
    transfers::id,
    transfers::from_site_id,
    transfers::to_site_id,
    transfers::status,
    transfers::dispatched_at,
    transfers::dispatched_by,
    transfers::received_at,
    transfers::received_by,
    (
        transfers::dispatched_token_id,
        transfers::dispatched_token_name,
        transfers::received_token_id,
        transfers::received_token_name,
    ),
    (transfers::plan_id, transfers::plan_stop),
);

pub fn transfer_by_id(conn: &mut DbConnection, id: i64) -> Result<Option<Transfer>, StoreError> {
    let row = transfers::table
        .find(id)
        .select(TRANSFER_COLUMNS)
        .first::<TransferTuple>(conn)
        .optional()?;
    row.map(|t| transfer(conn, t)).transpose()
}

/// Transfers, newest first, optionally of one status and touching one site.
pub fn list_transfers(
    conn: &mut DbConnection,
    status: Option<TransferStatus>,
    site: Option<&str>,
    limit: i64,
) -> Result<Vec<Transfer>, StoreError> {
    let mut q = transfers::table.into_boxed();
    if let Some(s) = status {
        q = q.filter(transfers::status.eq(s.as_str()));
    }
    if let Some(code) = site {
        let (id, _) = crate::catalogue::site_ref(conn, "site", code)?;
        q = q.filter(
            transfers::from_site_id
                .eq(id)
                .or(transfers::to_site_id.eq(id)),
        );
    }
    let rows = q
        .order(transfers::id.desc())
        .limit(limit)
        .select(TRANSFER_COLUMNS)
        .load::<TransferTuple>(conn)?;
    rows.into_iter().map(|t| transfer(conn, t)).collect()
}
