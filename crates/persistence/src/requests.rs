//! Units' supply requests: rows and their repository functions.

use crate::catalogue::{parse_text, utc};
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ledger::Stamp;
use crate::schema::{items, sites, supply_request_lines, supply_requests};
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use ppe_domain::replenishment::Requested;
use ppe_domain::requests::{NewSupplyRequest, RequestLine, RequestStatus, SupplyRequest};
use ppe_domain::site::SiteKind;
use std::collections::{BTreeMap, BTreeSet};

type HeadRow = (
    i64,
    String,
    String,
    Option<NaiveDate>,
    bool,
    Option<String>,
    String,
    Option<String>,
    Option<i64>,
    NaiveDateTime,
    NaiveDateTime,
);

fn load(conn: &mut DbConnection, heads: Vec<HeadRow>) -> Result<Vec<SupplyRequest>, StoreError> {
    let ids: Vec<i64> = heads.iter().map(|h| h.0).collect();
    let mut lines: BTreeMap<i64, Vec<RequestLine>> = BTreeMap::new();
    for (rid, sku, quantity) in supply_request_lines::table
        .inner_join(items::table)
        .filter(supply_request_lines::request_id.eq_any(&ids))
        .order((
            supply_request_lines::request_id,
            supply_request_lines::line_no,
        ))
        .select((
            supply_request_lines::request_id,
            items::sku,
            supply_request_lines::quantity,
        ))
        .load::<(i64, String, i64)>(conn)?
    {
        lines.entry(rid).or_default().push(RequestLine {
            item: sku,
            quantity,
        });
    }
    heads
        .into_iter()
        .map(
            |(id, site, status, needed_by, urgent, reason, by, token, plan, created, updated)| {
                Ok(SupplyRequest {
                    id,
                    site,
                    status: parse_text(&status)?,
                    requested_by: by,
                    needed_by,
                    urgent,
                    reason,
                    lines: lines.remove(&id).unwrap_or_default(),
                    plan_id: plan,
                    token_name: token,
                    created_at: utc(created),
                    updated_at: utc(updated),
                })
            },
        )
        .collect()
}

macro_rules! head_columns {
    () => {
        (
            supply_requests::id,
            sites::code,
            supply_requests::status,
            supply_requests::needed_by,
            supply_requests::urgent,
            supply_requests::reason,
            supply_requests::requested_by,
            supply_requests::token_name,
            supply_requests::plan_id,
            supply_requests::created_at,
            supply_requests::updated_at,
        )
    };
}

/// Stores a validated request of a unit.
pub fn create_request(
    conn: &mut DbConnection,
    r: &NewSupplyRequest,
    now: impl Into<Stamp>,
) -> Result<SupplyRequest, StoreError> {
    let now = now.into();
    let (site, kind) = crate::catalogue::site_ref(conn, "site", r.site.trim())?;
    if kind != SiteKind::Unit {
        // Only units request stock: among units there is no such site.
        return Err(StoreError::not_found("site", "unit", r.site.trim()));
    }
    let active: bool = sites::table.find(site).select(sites::active).first(conn)?;
    if !active {
        return Err(StoreError::contradicts("site", "is deactivated"));
    }
    let mut item_ids = Vec::new();
    for (i, l) in r.lines.iter().enumerate() {
        item_ids.push(crate::catalogue::item_id(
            conn,
            &format!("lines[{i}].item"),
            l.item.trim(),
        )?);
    }
    let t = now.at.naive_utc();
    let id = diesel::insert_into(supply_requests::table)
        .values((
            supply_requests::site_id.eq(site),
            supply_requests::status.eq(RequestStatus::Open.as_str()),
            supply_requests::needed_by.eq(r.needed_by),
            supply_requests::urgent.eq(r.urgent),
            supply_requests::reason.eq(r.reason.as_deref().map(str::trim)),
            supply_requests::requested_by.eq(r.requested_by.trim()),
            supply_requests::token_id.eq(now.by.as_ref().map(|t| t.id)),
            supply_requests::token_name.eq(now.by.as_ref().map(|t| t.name.as_str())),
            supply_requests::created_at.eq(t),
            supply_requests::updated_at.eq(t),
        ))
        .returning(supply_requests::id)
        .get_result::<i64>(conn)?;
    for (n, (l, item)) in r.lines.iter().zip(item_ids).enumerate() {
        diesel::insert_into(supply_request_lines::table)
            .values((
                supply_request_lines::request_id.eq(id),
                supply_request_lines::line_no.eq(n as i32),
                supply_request_lines::item_id.eq(item),
                supply_request_lines::quantity.eq(l.quantity),
            ))
            .execute(conn)?;
    }
    request_by_id(conn, id)?.ok_or_else(|| StoreError::not_found("id", "request", id.to_string()))
}

pub fn request_by_id(
    conn: &mut DbConnection,
    id: i64,
) -> Result<Option<SupplyRequest>, StoreError> {
    let heads = supply_requests::table
        .inner_join(sites::table)
        .filter(supply_requests::id.eq(id))
        .select(head_columns!())
        .load::<HeadRow>(conn)?;
    Ok(load(conn, heads)?.pop())
}

/// Requests, newest first, optionally of one site and one status.
pub fn list_requests(
    conn: &mut DbConnection,
    site: Option<&str>,
    status: Option<RequestStatus>,
    limit: i64,
) -> Result<Vec<SupplyRequest>, StoreError> {
    let mut q = supply_requests::table
        .inner_join(sites::table)
        .select(head_columns!())
        .order(supply_requests::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(s) = site {
        q = q.filter(sites::code.eq(s.trim().to_owned()));
    }
    if let Some(st) = status {
        q = q.filter(supply_requests::status.eq(st.as_str()));
    }
    let heads = q.load::<HeadRow>(conn)?;
    load(conn, heads)
}

/// Cancels an open request; anything else is a conflict.
pub fn cancel_request(
    conn: &mut DbConnection,
    id: i64,
    now: impl Into<Stamp>,
) -> Result<SupplyRequest, StoreError> {
    let now = now.into();
    let r = request_by_id(conn, id)?
        .ok_or_else(|| StoreError::not_found("id", "request", id.to_string()))?;
    let cancellable: Vec<&str> = RequestStatus::ALL
        .iter()
        .filter(|s| s.can_cancel())
        .map(|s| s.as_str())
        .collect();
    let done = diesel::update(
        supply_requests::table
            .find(id)
            .filter(supply_requests::status.eq_any(cancellable)),
    )
    .set((
        supply_requests::status.eq(RequestStatus::Cancelled.as_str()),
        supply_requests::updated_at.eq(now.at.naive_utc()),
    ))
    .execute(conn)?;
    if done == 0 {
        return Err(StoreError::Conflict(format!(
            "request {id} is {}; only an open request can be cancelled",
            r.status
        )));
    }
    request_by_id(conn, id)?.ok_or_else(|| StoreError::not_found("id", "request", id.to_string()))
}

/// One line of an open request: (request id, site id, item id, quantity, urgent).
pub type OpenLine = (i64, i64, i64, i64, bool);

/// The lines of open requests; `also_plan`: requests a plan being replaced took up count
/// as open.
pub fn open_request_lines(
    conn: &mut DbConnection,
    also_plan: Option<i64>,
) -> Result<Vec<OpenLine>, StoreError> {
    let mut q = supply_request_lines::table
        .inner_join(supply_requests::table)
        .select((
            supply_requests::id,
            supply_requests::site_id,
            supply_request_lines::item_id,
            supply_request_lines::quantity,
            supply_requests::urgent,
        ))
        .into_boxed();
    q = match also_plan {
        Some(p) => q.filter(
            supply_requests::status
                .eq(RequestStatus::Open.as_str())
                .or(supply_requests::status
                    .eq(RequestStatus::Planned.as_str())
                    .and(supply_requests::plan_id.eq(p))),
        ),
        None => q.filter(supply_requests::status.eq(RequestStatus::Open.as_str())),
    };
    Ok(q.load::<OpenLine>(conn)?)
}

/// What open request lines ask per site × item, summed.
pub fn summed(lines: &[OpenLine]) -> Vec<Requested> {
    let mut sum: BTreeMap<(i64, i64), Requested> = BTreeMap::new();
    for &(_, site, item, quantity, urgent) in lines {
        let e = sum.entry((site, item)).or_insert(Requested {
            site,
            item,
            quantity: 0,
            urgent: false,
        });
        e.quantity += quantity;
        e.urgent |= urgent;
    }
    sum.into_values().collect()
}

/// Moves the requests `ids` to `planned` under `plan`, those still open (a request
/// cancelled or taken meanwhile is left as it is).
pub fn mark_planned(
    conn: &mut DbConnection,
    ids: &[i64],
    plan: i64,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    diesel::update(
        supply_requests::table
            .filter(supply_requests::id.eq_any(ids))
            .filter(supply_requests::status.eq(RequestStatus::Open.as_str())),
    )
    .set((
        supply_requests::status.eq(RequestStatus::Planned.as_str()),
        supply_requests::plan_id.eq(plan),
        supply_requests::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(())
}

/// The requests a plan took up go back to open (the plan was cancelled or replaced).
pub fn release(conn: &mut DbConnection, plan: i64, at: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(
        supply_requests::table
            .filter(supply_requests::plan_id.eq(plan))
            .filter(supply_requests::status.eq(RequestStatus::Planned.as_str())),
    )
    .set((
        supply_requests::status.eq(RequestStatus::Open.as_str()),
        supply_requests::plan_id.eq(None::<i64>),
        supply_requests::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(())
}

/// After a receipt at `site`: the plan's requests of the site whose every item was
/// accepted are delivered; the others (an item refused, lost or returned whole) are open
/// again for another plan.
pub fn settle_planned(
    conn: &mut DbConnection,
    plan: i64,
    site: i64,
    accepted_items: &BTreeSet<i64>,
    at: NaiveDateTime,
) -> Result<(), StoreError> {
    let planned: Vec<i64> = supply_requests::table
        .filter(supply_requests::plan_id.eq(plan))
        .filter(supply_requests::site_id.eq(site))
        .filter(supply_requests::status.eq(RequestStatus::Planned.as_str()))
        .select(supply_requests::id)
        .load(conn)?;
    for id in planned {
        let items: Vec<i64> = supply_request_lines::table
            .filter(supply_request_lines::request_id.eq(id))
            .select(supply_request_lines::item_id)
            .load(conn)?;
        let delivered = items.iter().all(|i| accepted_items.contains(i));
        let target = supply_requests::table
            .find(id)
            .filter(supply_requests::status.eq(RequestStatus::Planned.as_str()));
        if delivered {
            diesel::update(target)
                .set((
                    supply_requests::status.eq(RequestStatus::Delivered.as_str()),
                    supply_requests::updated_at.eq(at),
                ))
                .execute(conn)?;
        } else {
            diesel::update(target)
                .set((
                    supply_requests::status.eq(RequestStatus::Open.as_str()),
                    supply_requests::plan_id.eq(None::<i64>),
                    supply_requests::updated_at.eq(at),
                ))
                .execute(conn)?;
        }
    }
    Ok(())
}
