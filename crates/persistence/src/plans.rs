//! Delivery plans: storing a plan (holding its depot stock), reading, cancelling, and
//! dispatching one in a single transaction, one transfer per routed stop.

use crate::catalogue::{IdCache, parse_text, utc};
use crate::connection::DbConnection;
use crate::error::{Shortfall, StoreError};
use crate::ledger::{Stamp, dispatch_exact_lots};
use crate::schema::{balances, delivery_plans, items, sites, transfers};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use ppe_domain::allocation::LotStock;
use ppe_domain::commands::{Dispatch, QuantityLine};
use ppe_domain::delivery::{DeliveryPlan, PlanStatus};
use std::collections::{BTreeMap, HashMap};

type PlanRow = (
    i64,
    String,
    String,
    i32,
    Option<i64>,
    String,
    Option<String>,
    NaiveDateTime,
);

macro_rules! plan_columns {
    () => {
        (
            delivery_plans::id,
            sites::code,
            delivery_plans::status,
            delivery_plans::version,
            delivery_plans::replaces_plan_id,
            delivery_plans::document,
            delivery_plans::token_name,
            delivery_plans::created_at,
        )
    };
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(diesel::result::Error::DeserializationError(
        e.to_string().into(),
    ))
}

fn to_plan(r: PlanRow) -> Result<DeliveryPlan, StoreError> {
    let (id, depot, status, version, replaces, document, token, created) = r;
    let mut p: DeliveryPlan = serde_json::from_str(&document).map_err(corrupt)?;
    // The columns are the truth for what changes after the document was written.
    p.id = id;
    p.depot = depot;
    p.status = parse_text(&status)?;
    p.version = version;
    p.replaces = replaces;
    p.created_by = token;
    p.created_at = utc(created);
    Ok(p)
}

/// Moves a plan to `to` from the state it is reached from; false when the plan is not in
/// that state (any more). Of two concurrent claims exactly one updates the row: the other
/// waits for its commit (PostgreSQL row lock; SQLite has one writer) and then finds it
/// claimed.
fn claim(
    conn: &mut DbConnection,
    id: i64,
    to: PlanStatus,
    at: NaiveDateTime,
) -> Result<bool, StoreError> {
    let Some(from) = to.reached_from() else {
        return Ok(false);
    };
    let n = diesel::update(
        delivery_plans::table
            .find(id)
            .filter(delivery_plans::status.eq(from.as_str())),
    )
    .set((
        delivery_plans::status.eq(to.as_str()),
        delivery_plans::updated_at.eq(at),
    ))
    .execute(conn)?;
    Ok(n > 0)
}

/// The plan, or NotFound naming the path's `id`.
fn existing(conn: &mut DbConnection, id: i64) -> Result<DeliveryPlan, StoreError> {
    plan_by_id(conn, id)?
        .ok_or_else(|| StoreError::not_found("id", "delivery plan", id.to_string()))
}

/// The depot's lots with stock, per item id.
pub fn lots_at(
    conn: &mut DbConnection,
    depot: i64,
) -> Result<BTreeMap<i64, Vec<LotStock>>, StoreError> {
    let mut out: BTreeMap<i64, Vec<LotStock>> = BTreeMap::new();
    for (item, lot, expires_on, quantity) in balances::table
        .filter(balances::site_id.eq(depot))
        .filter(balances::quantity.gt(0))
        .select((
            balances::item_id,
            balances::lot,
            balances::expires_on,
            balances::quantity,
        ))
        .load::<(i64, String, Option<NaiveDate>, i64)>(conn)?
    {
        out.entry(item).or_default().push(LotStock {
            lot,
            expires_on,
            quantity,
        });
    }
    Ok(out)
}

/// The plan states that hold depot stock.
fn holding_states() -> Vec<&'static str> {
    PlanStatus::ALL
        .iter()
        .filter(|s| s.holds_stock())
        .map(|s| s.as_str())
        .collect()
}

/// Plans of a depot that still hold stock, but `except`.
pub fn open_plans(
    conn: &mut DbConnection,
    depot: i64,
    except: Option<i64>,
) -> Result<Vec<DeliveryPlan>, StoreError> {
    let rows = delivery_plans::table
        .inner_join(sites::table)
        .filter(delivery_plans::depot_site_id.eq(depot))
        .filter(delivery_plans::status.eq_any(holding_states()))
        .filter(delivery_plans::id.ne(except.unwrap_or(-1)))
        .select(plan_columns!())
        .load::<PlanRow>(conn)?;
    rows.into_iter().map(to_plan).collect()
}

/// The depot's lots less what open plans (but `except`) hold, per item id.
pub fn unheld_lots(
    conn: &mut DbConnection,
    depot: i64,
    except: Option<i64>,
) -> Result<BTreeMap<i64, Vec<LotStock>>, StoreError> {
    let mut lots = lots_at(conn, depot)?;
    let skus = sku_ids(conn)?;
    for plan in open_plans(conn, depot, except)? {
        for (sku, lot, q) in plan.held() {
            let Some(item) = skus.get(&sku) else { continue };
            if let Some(l) = lots
                .get_mut(item)
                .and_then(|v| v.iter_mut().find(|l| l.lot == lot))
            {
                l.quantity = (l.quantity - q).max(0);
            }
        }
    }
    Ok(lots)
}

/// On hand of one lot of an item (by SKU) among the depot's lots.
fn lot_on_hand(
    lots: &BTreeMap<i64, Vec<LotStock>>,
    skus: &HashMap<String, i64>,
    sku: &str,
    lot: &str,
) -> i64 {
    skus.get(sku)
        .and_then(|i| lots.get(i))
        .and_then(|v| v.iter().find(|x| x.lot == lot))
        .map_or(0, |x| x.quantity)
}

fn sku_ids(conn: &mut DbConnection) -> Result<HashMap<String, i64>, StoreError> {
    Ok(items::table
        .select((items::sku, items::id))
        .load::<(String, i64)>(conn)?
        .into_iter()
        .collect())
}

/// Stores a new plan (or a new version of `replaces`, which becomes superseded and
/// gives its requests back), takes up the requests `taken` (those still open), and holds
/// its stock. Refused when another plan took the same stock meanwhile.
pub fn store_plan(
    conn: &mut DbConnection,
    plan: &DeliveryPlan,
    depot: i64,
    taken: &[i64],
    now: impl Into<Stamp>,
) -> Result<DeliveryPlan, StoreError> {
    let now = now.into();
    let t = now.at.naive_utc();
    let mut version = 1;
    if let Some(old) = plan.replaces {
        let (old_depot, old_version): (i64, i32) = delivery_plans::table
            .find(old)
            .select((delivery_plans::depot_site_id, delivery_plans::version))
            .first(conn)
            .optional()?
            .ok_or_else(|| StoreError::not_found("replaces", "delivery plan", old.to_string()))?;
        if old_depot != depot {
            return Err(StoreError::invalid(
                "replaces",
                "the replaced plan is of another depot",
            ));
        }
        if !claim(conn, old, PlanStatus::Superseded, t)? {
            return Err(StoreError::Conflict(format!(
                "plan {old} is no longer planned; only a planned plan can be re-planned"
            )));
        }
        crate::requests::release(conn, old, t)?;
        version = old_version + 1;
    }
    check_held(conn, depot, plan)?;
    let document = serde_json::to_string(plan).map_err(|e| StoreError::Encode(e.to_string()))?;
    let id = diesel::insert_into(delivery_plans::table)
        .values((
            delivery_plans::depot_site_id.eq(depot),
            delivery_plans::plan_date.eq(plan.date),
            delivery_plans::status.eq(PlanStatus::Planned.as_str()),
            delivery_plans::version.eq(version),
            delivery_plans::replaces_plan_id.eq(plan.replaces),
            delivery_plans::document.eq(document),
            delivery_plans::token_id.eq(now.by.as_ref().map(|t| t.id)),
            delivery_plans::token_name.eq(now.by.as_ref().map(|t| t.name.as_str())),
            delivery_plans::created_at.eq(t),
            delivery_plans::updated_at.eq(t),
        ))
        .returning(delivery_plans::id)
        .get_result::<i64>(conn)?;
    crate::requests::mark_planned(conn, taken, id, t)?;
    existing(conn, id)
}

/// Every lot the open plans of the depot hold, this one included, must be on hand.
fn check_held(conn: &mut DbConnection, depot: i64, plan: &DeliveryPlan) -> Result<(), StoreError> {
    let lots = lots_at(conn, depot)?;
    let skus = sku_ids(conn)?;
    let mut held: BTreeMap<(String, String), i64> = BTreeMap::new();
    for p in open_plans(conn, depot, None)? {
        for (sku, lot, q) in p.held() {
            *held.entry((sku, lot)).or_default() += q;
        }
    }
    let mut short = Vec::new();
    for l in &plan.lines {
        for pick in &l.lots {
            let key = (l.item.clone(), pick.lot.clone());
            let on_hand = lot_on_hand(&lots, &skus, &l.item, &pick.lot);
            let others = held.get(&key).copied().unwrap_or(0);
            if others + pick.quantity > on_hand {
                short.push(Shortfall {
                    site: l.site.clone(),
                    item: l.item.clone(),
                    lot: pick.lot.clone(),
                    planned: pick.quantity,
                    available: (on_hand - others).max(0),
                });
            }
            *held.entry(key).or_default() += pick.quantity;
        }
    }
    if short.is_empty() {
        Ok(())
    } else {
        Err(StoreError::StockChanged(short))
    }
}

pub fn plan_by_id(conn: &mut DbConnection, id: i64) -> Result<Option<DeliveryPlan>, StoreError> {
    delivery_plans::table
        .inner_join(sites::table)
        .filter(delivery_plans::id.eq(id))
        .select(plan_columns!())
        .first::<PlanRow>(conn)
        .optional()?
        .map(to_plan)
        .transpose()
}

/// Plans, newest first, optionally of one depot, status or date.
pub fn list_plans(
    conn: &mut DbConnection,
    depot: Option<&str>,
    status: Option<PlanStatus>,
    date: Option<NaiveDate>,
    limit: i64,
) -> Result<Vec<DeliveryPlan>, StoreError> {
    let mut q = delivery_plans::table
        .inner_join(sites::table)
        .select(plan_columns!())
        .order(delivery_plans::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(d) = depot {
        q = q.filter(sites::code.eq(d.trim().to_owned()));
    }
    if let Some(s) = status {
        q = q.filter(delivery_plans::status.eq(s.as_str()));
    }
    if let Some(d) = date {
        q = q.filter(delivery_plans::plan_date.eq(d));
    }
    q.load::<PlanRow>(conn)?.into_iter().map(to_plan).collect()
}

/// Cancels a planned plan: its stock is free again and its requests open.
pub fn cancel_plan(
    conn: &mut DbConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<DeliveryPlan, StoreError> {
    let p = existing(conn, id)?;
    if !claim(conn, id, PlanStatus::Cancelled, now.naive_utc())? {
        return Err(StoreError::Conflict(format!(
            "plan {id} is {}; only a planned plan can be cancelled",
            p.status
        )));
    }
    crate::requests::release(conn, id, now.naive_utc())?;
    existing(conn, id)
}

/// Dispatches a planned plan in the caller's transaction: one transfer per routed stop
/// with the planned lots, the plan `dispatched`; answers with the plan as JSON, kept so
/// that a plan already dispatched answers with the same bytes. Lines the depot no longer holds refuse the whole
/// dispatch, naming every such line; nothing is written.
pub fn dispatch_plan(
    conn: &mut DbConnection,
    ids: &IdCache,
    id: i64,
    reported_by: &str,
    now: impl Into<Stamp>,
) -> Result<String, StoreError> {
    let now = now.into();
    let plan = existing(conn, id)?;
    // Claim first: a concurrent twin finds the plan claimed, and the stored answer.
    let at = now.at.naive_utc();
    if !claim(conn, id, PlanStatus::Dispatched, at)? {
        let (status, stored): (String, Option<String>) = delivery_plans::table
            .find(id)
            .select((delivery_plans::status, delivery_plans::dispatch_answer))
            .first(conn)?;
        return match stored {
            Some(body) => Ok(body),
            None => Err(StoreError::Conflict(format!(
                "plan {id} is {status}; only a planned plan can be dispatched"
            ))),
        };
    }
    let depot = sites::table
        .filter(sites::code.eq(&plan.depot))
        .select(sites::id)
        .first::<i64>(conn)?;
    check_on_hand(conn, depot, &plan)?;
    let mut transfer_ids = Vec::new();
    for stop in plan.dispatches() {
        let cmd = Dispatch {
            from_site: plan.depot.clone(),
            to_site: stop.site.clone(),
            occurred_at: None,
            reported_by: reported_by.to_owned(),
            lines: stop
                .lines
                .iter()
                .map(|(item, lot, quantity)| QuantityLine {
                    item: item.clone(),
                    quantity: *quantity,
                    lot: Some(lot.clone()),
                })
                .collect(),
        };
        let rec = dispatch_exact_lots(conn, ids, &cmd, now.clone())?;
        let Some(t) = rec.transfer else { continue };
        diesel::update(transfers::table.find(t.id))
            .set((
                transfers::plan_id.eq(Some(id)),
                transfers::plan_stop.eq(Some(stop.stop as i32)),
            ))
            .execute(conn)?;
        transfer_ids.push(t.id);
    }
    let mut done = plan;
    done.status = PlanStatus::Dispatched;
    // Nothing was routed: nothing will be received, so the plan is done now.
    if transfer_ids.is_empty() {
        claim(conn, id, PlanStatus::Completed, at)?;
        done.status = PlanStatus::Completed;
    }
    done.transfers = transfer_ids;
    let body = serde_json::to_string(&done).map_err(|e| StoreError::Encode(e.to_string()))?;
    diesel::update(delivery_plans::table.find(id))
        .set((
            delivery_plans::document.eq(&body),
            delivery_plans::dispatch_answer.eq(Some(&body)),
        ))
        .execute(conn)?;
    Ok(body)
}

/// Every planned lot must still be on hand at the depot; else every short line is named.
fn check_on_hand(
    conn: &mut DbConnection,
    depot: i64,
    plan: &DeliveryPlan,
) -> Result<(), StoreError> {
    let lots = lots_at(conn, depot)?;
    let skus = sku_ids(conn)?;
    let mut need: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut short = Vec::new();
    for stop in plan.dispatches() {
        for (sku, lot, q) in &stop.lines {
            let total = need.entry((sku.clone(), lot.clone())).or_default();
            *total += q;
            let on_hand = lot_on_hand(&lots, &skus, sku, lot);
            if *total > on_hand {
                short.push(Shortfall {
                    site: stop.site.clone(),
                    item: sku.clone(),
                    lot: lot.clone(),
                    planned: *q,
                    available: (on_hand - (*total - q)).max(0),
                });
            }
        }
    }
    if short.is_empty() {
        Ok(())
    } else {
        Err(StoreError::StockChanged(short))
    }
}

/// A dispatched plan whose transfers are all closed is completed.
pub fn complete(conn: &mut DbConnection, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
    claim(conn, id, PlanStatus::Completed, at.naive_utc())?;
    Ok(())
}
