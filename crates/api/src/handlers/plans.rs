//! Delivery planning over HTTP: the replenishment proposal, delivery plans (allocation and
//! routes, stored), their dispatch as transfers, and the drivers' run sheets. The search
//! and the loading run on blocking threads, never on the async workers.

use super::{blocking, write_once};
use crate::auth::Auth;
use crate::extract::{IdempotencyKeyHeader, JsonBody};
use crate::forecasting::stored::StoredDetail;
use crate::planning::{self, NewDeliveryPlan};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use ppe_domain::access::Permission;
use ppe_domain::allocation::AllocationReason;
use ppe_domain::commands::ReceiveTransfer;
use ppe_domain::delivery::{self, DeliveryPlan, PlanRoute, PlanStatus};
use ppe_domain::ledger::Recorded;
use ppe_domain::replenishment::NeedReason;
use ppe_domain::supply::{self, Position};
use ppe_domain::validation::Violations;
use ppe_persistence::forecasts::{self, ForecastFilter};
use ppe_persistence::{StoreError, plans};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProposalQuery {
    /// Warehouse code.
    pub depot: String,
    /// The delivery day (local); default today.
    pub date: Option<NaiveDate>,
}

/// One unit × item that needs a delivery.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ProposalLine {
    pub site: String,
    pub site_name: String,
    pub district: Option<String>,
    pub item: String,
    /// The tier the line is allocated in (1 first; an urgent request puts it in 1).
    pub tier: u8,
    /// Base units, whole packs: the larger of the forecast's order and the requests.
    pub need: i64,
    pub reason: NeedReason,
    /// What the order-up-to rule asks (whole packs).
    pub from_forecast: i64,
    /// What open requests ask (rounded up to whole packs).
    pub from_requests: i64,
    pub urgent: bool,
    /// On hand + in transit at the unit.
    pub position: i64,
    pub burn_rate: f64,
    /// Median days of supply now; absent when nothing is used.
    pub days_before: Option<f64>,
    /// Days of supply with the whole need delivered, at the burn rate.
    pub days_after: Option<f64>,
    /// Probability of running out within the unit's lead time now.
    pub stockout_probability_before: Option<f64>,
    /// What a plan made now would allocate: the fair share of the depot's free stock.
    pub allocated: i64,
    pub allocation: AllocationReason,
    /// Days of supply with the allocated quantity delivered.
    pub days_after_allocation: Option<f64>,
    /// Probability of running out within the lead time with the allocated quantity added to
    /// today's position (the stored forecast's demand paths); absent without a forecast.
    pub stockout_probability_after_allocation: Option<f64>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Proposal {
    pub depot: String,
    pub date: NaiveDate,
    /// Riskiest first: by tier, then fewest days of supply.
    pub lines: Vec<ProposalLine>,
    /// Base units needed over all lines.
    pub need: i64,
    /// Base units a plan made now would allocate.
    pub allocated: i64,
}

/// What each unit needs for a delivery on a date: per unit × item the larger of the
/// order-up-to suggestion (supply status, whole packs) and open requests, with the reason,
/// days of supply before and after, and the fair share of the depot's free stock.
#[utoipa::path(get, path = "/api/v1/replenishment", tag = "planning", params(ProposalQuery), responses(
    (status = 200, body = Proposal),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown or non-warehouse depot, date in the past", body = Problem, content_type = "application/problem+json"),
))]
pub async fn replenishment(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<ProposalQuery>,
) -> Result<HttpResponse, Problem> {
    auth.require_filtered(Permission::ReadStock, "site", None)?;
    let q = q.into_inner();
    let today = state.forecasting.local_day(chrono::Utc::now());
    let req = NewDeliveryPlan {
        date: Some(q.date.unwrap_or(today)),
        depot: q.depot,
        vehicles: None,
        lines: None,
        overrides: Vec::new(),
        time_limit: None,
        replaces: None,
        min_shelf_days: None,
    };
    req.validate(today)?;
    let settings = state.forecasting.clone();
    let proposal = blocking(&state, move |db| {
        let g = db.read(|c| planning::gather(c, &settings, &req, today))?;
        let allocated = delivery::allocate_needs(&g.input).map_err(contradicts)?;
        let units: HashMap<i64, &ppe_domain::site::Site> =
            g.units.iter().map(|u| (u.id, u)).collect();
        let risk_after = risk_after(db, &settings, &allocated, &units)?;
        let items: HashMap<i64, &str> = g.items.iter().map(|i| (i.id, i.sku.as_str())).collect();
        let mut lines: Vec<ProposalLine> = allocated
            .into_iter()
            .filter_map(|(n, a, reason)| {
                let u = units.get(&n.site)?;
                Some(ProposalLine {
                    site: u.code.clone(),
                    site_name: u.name.clone(),
                    district: u.district.clone(),
                    item: items.get(&n.item)?.to_string(),
                    tier: n.tier,
                    need: n.need,
                    reason: n.reason,
                    from_forecast: n.from_forecast,
                    from_requests: n.from_requests,
                    urgent: n.urgent,
                    position: n.position,
                    burn_rate: n.burn_rate,
                    days_before: n.days_before,
                    days_after: n.days_with(n.need),
                    stockout_probability_before: n.stockout_probability_before,
                    allocated: a,
                    allocation: reason,
                    days_after_allocation: n.days_with(a),
                    stockout_probability_after_allocation: risk_after
                        .get(&(n.site, n.item))
                        .copied(),
                })
            })
            .collect();
        lines.sort_by(|a, b| {
            (
                a.tier,
                a.days_before.unwrap_or(f64::INFINITY),
                &a.site,
                &a.item,
            )
                .partial_cmp(&(
                    b.tier,
                    b.days_before.unwrap_or(f64::INFINITY),
                    &b.site,
                    &b.item,
                ))
                .unwrap_or(std::cmp::Ordering::Equal)
        });
        Ok(Proposal {
            depot: g.depot.code,
            date: req.day(today),
            need: lines.iter().map(|l| l.need).sum(),
            allocated: lines.iter().map(|l| l.allocated).sum(),
            lines,
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(proposal))
}

/// The probability of running out within the lead time once each line's allocation is
/// added to today's position, from the stored forecast of the pair (its demand paths
/// simulated again with the new position).
fn risk_after(
    db: &ppe_persistence::Db,
    settings: &crate::forecasting::ForecastSettings,
    allocated: &[(ppe_domain::replenishment::Need, i64, AllocationReason)],
    units: &HashMap<i64, &ppe_domain::site::Site>,
) -> Result<HashMap<(i64, i64), f64>, StoreError> {
    let rows = db.read(|c| forecasts::read_full(c, &ForecastFilter::default()))?;
    let rows: HashMap<(i64, i64), &forecasts::ForecastRow> = rows
        .iter()
        .map(|n| ((n.row.site_id, n.row.item_id), &n.row))
        .collect();
    let mut out = HashMap::new();
    for (n, a, _) in allocated {
        // Nothing delivered, nothing changes: the stored risk stands.
        if *a == 0 {
            if let Some(before) = n.stockout_probability_before {
                out.insert((n.site, n.item), before);
            }
            continue;
        }
        let (Some(row), Some(unit)) = (rows.get(&(n.site, n.item)), units.get(&n.site)) else {
            continue;
        };
        let detail: StoredDetail = serde_json::from_str(&row.detail)
            .map_err(|e| StoreError::Encode(format!("a stored forecast is unreadable: {e}")))?;
        let position = Position {
            on_hand: n.position + a,
            in_transit: 0,
            lead_time_days: u32::try_from(unit.lead_time_days).unwrap_or(1),
            pack_size: n.pack_size,
            today: row.first_day,
        };
        let after = supply::assess(&detail.forecast, &position, &settings.policy);
        out.insert((n.site, n.item), after.stockout_probability);
    }
    Ok(out)
}

/// Plan a day's deliveries: the replenishment proposal (or the lines given) allocated
/// from the depot's free stock (priority tiers first, then equal days of supply, whole
/// packs, first expiry first), one stop per unit with its weight and volume, opening
/// hours and tier, routed over the depot's fleet. Stored as `planned`: its stock is held
/// until it is dispatched or cancelled. With `replaces`, a new version of a planned plan.
#[utoipa::path(post, path = "/api/v1/delivery-plans", tag = "planning", request_body = NewDeliveryPlan,
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key for safe retries")),
    responses(
        (status = 201, body = DeliveryPlan),
        (status = 409, description = "The plan to replace is not planned any more, or stock changed while planning", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field: depot, date, vehicles, lines, overrides, replaces, an item without weight or volume", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    auth: Auth,
    state: web::Data<AppState>,
    key: IdempotencyKeyHeader,
    body: JsonBody<NewDeliveryPlan>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::PlanRoutes)?;
    let today = state.forecasting.local_day(chrono::Utc::now());
    body.value.validate(today)?;
    let req = body.value.clone();
    let settings = state.forecasting.clone();
    let db = state.db.clone();
    let (plan, depot, taken) = state
        .heavy
        .run(move || {
            let g = db.read(|c| planning::gather(c, &settings, &req, today))?;
            let started = std::time::Instant::now();
            let clock = move || started.elapsed().as_secs_f64();
            let mut plan = delivery::build_plan(&g.input, &clock).map_err(contradicts)?;
            plan.replaces = req.replaces;
            // A plan takes up the open requests it serves in full (only a plan made from
            // the proposal has any).
            let taken = planning::taken_requests(&plan, &g.units, &g.items, &g.request_lines);
            Ok::<_, StoreError>((plan, g.depot, taken))
        })
        .await??;
    let lane = depot.code.clone();
    let job = JsonBody {
        value: (plan, depot.id, taken),
        fingerprint: body.fingerprint,
    };
    write_once(
        &state,
        &auth,
        key,
        job,
        super::Touches::sites(&[&lane]),
        StatusCode::CREATED,
        |c, _, (plan, depot, taken), now| plans::store_plan(c, plan, *depot, taken, now),
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PlanQuery {
    /// Warehouse code.
    pub depot: Option<String>,
    pub status: Option<PlanStatus>,
    pub date: Option<NaiveDate>,
    /// At most this many, newest first (1–100, default 20).
    pub limit: Option<i64>,
}

/// Delivery plans, newest first.
#[utoipa::path(get, path = "/api/v1/delivery-plans", tag = "planning", params(PlanQuery), responses(
    (status = 200, body = Vec<DeliveryPlan>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
))]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<PlanQuery>,
) -> Result<HttpResponse, Problem> {
    auth.require_filtered(Permission::ReadStock, "site", None)?;
    let q = q.into_inner();
    let limit = super::limit_param(q.limit, 20, 100)?;
    let rows = blocking(&state, move |db| {
        db.read(|c| plans::list_plans(c, q.depot.as_deref(), q.status, q.date, limit))
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}

async fn load(state: &web::Data<AppState>, id: i64) -> Result<DeliveryPlan, Problem> {
    blocking(state, move |db| db.read(|c| plans::plan_by_id(c, id)))
        .await?
        .ok_or_else(|| Problem::not_found("delivery plan", &id.to_string()))
}

/// One delivery plan.
#[utoipa::path(get, path = "/api/v1/delivery-plans/{id}", tag = "planning",
    params(("id" = i64, Path, description = "Plan id")),
    responses((status = 200, body = DeliveryPlan), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    auth.require_filtered(Permission::ReadStock, "site", None)?;
    Ok(HttpResponse::Ok().json(load(&state, id.into_inner()).await?))
}

/// Cancel a planned plan: its stock is free again and its requests open.
#[utoipa::path(post, path = "/api/v1/delivery-plans/{id}/cancel", tag = "planning",
    params(("id" = i64, Path, description = "Plan id")),
    responses(
        (status = 200, body = DeliveryPlan),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not planned any more", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::PlanRoutes)?;
    let id = id.into_inner();
    let now = chrono::Utc::now();
    let plan = blocking(&state, move |db| {
        db.write(move |c| plans::cancel_plan(c, id, now))
    })
    .await
    .map_err(crate::handlers::catalogue::not_found_in_path)?;
    Ok(HttpResponse::Ok().json(plan))
}

/// Who dispatches.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DispatchPlan {
    /// The person dispatching (free text).
    pub reported_by: String,
}

/// Dispatch a planned plan in one transaction: one transfer per routed stop with the
/// planned lots, stock moves to in transit, the plan becomes `dispatched`. A second
/// dispatch answers with the first one's answer; stock that no longer covers a line
/// refuses the whole dispatch with 409 naming every such line.
#[utoipa::path(post, path = "/api/v1/delivery-plans/{id}/dispatch", tag = "planning", request_body = DispatchPlan,
    params(("id" = i64, Path, description = "Plan id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key for safe retries")),
    responses(
        (status = 200, body = DeliveryPlan),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Cancelled or superseded, or stock changed since planning (lines named)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn dispatch(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    key: IdempotencyKeyHeader,
    body: JsonBody<DispatchPlan>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::Dispatch)?;
    let id = id.into_inner();
    let plan = load(&state, id).await?;
    auth.require_at(Permission::Dispatch, &plan.depot)?;
    let mut v = Violations::default();
    v.text("reported_by", &body.value.reported_by, 100);
    v.finish()?;
    write_once(
        &state,
        &auth,
        key,
        body,
        super::Touches::sites(&[&plan.depot]),
        StatusCode::OK,
        move |c, ids, cmd, now| {
            let body = plans::dispatch_plan(c, ids, id, cmd.reported_by.trim(), now)?;
            // Every answer, first or repeated, goes out through the same value, so the
            // bytes are the same.
            serde_json::from_str::<serde_json::Value>(&body)
                .map_err(|e| StoreError::Encode(e.to_string()))
        },
    )
    .await
}

/// Proof of delivery for one stop of a dispatched plan, named as on the run sheet (route
/// `n`, stop `k`): the same as receiving the stop's transfer.
#[utoipa::path(post, path = "/api/v1/delivery-plans/{id}/routes/{n}/stops/{k}/receive", tag = "planning",
    request_body = ReceiveTransfer,
    params(("id" = i64, Path, description = "Plan id"), ("n" = usize, Path, description = "Route number (1-based)"),
        ("k" = usize, Path, description = "Stop number on the route (1-based)"),
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key for safe retries"), super::WriteQuery),
    responses(
        (status = 200, body = Recorded),
        (status = 404, description = "No such plan, or no dispatched stop of that number", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already received or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn receive_stop(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<(i64, usize, usize)>,
    key: IdempotencyKeyHeader,
    q: web::Query<super::WriteQuery>,
    body: JsonBody<ReceiveTransfer>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReceiveTransfer)?;
    let (id, n, k) = path.into_inner();
    let plan = load(&state, id).await?;
    let transfer = plan
        .dispatches()
        .iter()
        .zip(&plan.transfers)
        .find(|(d, _)| d.route == n && d.stop == k)
        .map(|(_, t)| *t)
        .ok_or_else(|| {
            Problem::not_found(
                "dispatched stop",
                &format!("route {n} stop {k} of plan {id}"),
            )
        })?;
    super::transfers::receive_by_id(auth, state, transfer, key, &q, body).await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RunSheetQuery {
    /// `html` (printable, default) or `csv`; `Accept: text/csv` also gives CSV.
    pub format: Option<String>,
}

/// One stop line of a run sheet.
struct SheetRow<'a> {
    trip: usize,
    stop: &'a delivery::PlanStop,
    item: &'a str,
    lot: &'a str,
    expires_on: Option<NaiveDate>,
    quantity: i64,
    transfer: Option<i64>,
}

fn sheet_rows<'a>(plan: &'a DeliveryPlan, route: &'a PlanRoute) -> Vec<SheetRow<'a>> {
    let transfers: HashMap<(usize, usize), i64> = plan
        .dispatches()
        .iter()
        .zip(&plan.transfers)
        .map(|(d, t)| ((d.route, d.stop), *t))
        .collect();
    let mut rows = Vec::new();
    for trip in &route.trips {
        for stop in &trip.stops {
            for l in plan
                .lines
                .iter()
                .filter(|l| l.site == stop.site && l.allocated > 0)
            {
                for p in l.lots.iter().filter(|p| p.quantity > 0) {
                    rows.push(SheetRow {
                        trip: trip.number,
                        stop,
                        item: &l.item,
                        lot: &p.lot,
                        expires_on: p.expires_on,
                        quantity: p.quantity,
                        transfer: transfers.get(&(route.number, stop.order)).copied(),
                    });
                }
            }
        }
    }
    rows
}

fn csv_sheet(plan: &DeliveryPlan, route: &PlanRoute) -> Result<String, Problem> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let fail = |e: csv::Error| {
        log::error!("run sheet: {e}");
        Problem::internal()
    };
    w.write_record([
        "plan",
        "route",
        "vehicle",
        "trip",
        "stop",
        "site",
        "site_name",
        "address",
        "window",
        "eta",
        "item",
        "lot",
        "expires_on",
        "quantity",
        "transfer",
    ])
    .map_err(fail)?;
    for r in sheet_rows(plan, route) {
        w.write_record([
            plan.id.to_string(),
            route.number.to_string(),
            route.vehicle.clone(),
            r.trip.to_string(),
            r.stop.order.to_string(),
            r.stop.site.clone(),
            r.stop.site_name.clone(),
            r.stop.address.clone().unwrap_or_default(),
            r.stop.window.clone().unwrap_or_default(),
            r.stop.eta_local.clone(),
            r.item.to_owned(),
            r.lot.to_owned(),
            r.expires_on.map(|d| d.to_string()).unwrap_or_default(),
            r.quantity.to_string(),
            r.transfer.map(|t| t.to_string()).unwrap_or_default(),
        ])
        .map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| {
        log::error!("run sheet: {e}");
        Problem::internal()
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// Escapes text for HTML element content and attribute values.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn html_sheet(plan: &DeliveryPlan, route: &PlanRoute) -> String {
    let rows = sheet_rows(plan, route);
    let mut h = String::new();
    h.push_str("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!(
        "<title>Run sheet: plan {} route {}</title>",
        plan.id, route.number
    ));
    h.push_str(
        "<style>body{font-family:sans-serif;margin:1.5em}table{border-collapse:collapse;width:100%}\
         td,th{border:1px solid #444;padding:4px 6px;text-align:left;vertical-align:top}\
         .sign{height:3em;min-width:14em}@media print{a{display:none}}</style></head><body>",
    );
    h.push_str(&format!(
        "<h1>Run sheet — {} — {}</h1><p>Plan {} (version {}), route {}, vehicle <b>{}</b>, \
         depot {}. {:.1} km, {:.0} min on the road.</p>",
        esc(&plan.depot),
        plan.date,
        plan.id,
        plan.version,
        route.number,
        esc(&route.vehicle),
        esc(&plan.depot),
        route.distance_km,
        route.duration_minutes
    ));
    for trip in &route.trips {
        h.push_str(&format!(
            "<h2>Trip {}: {:.0} kg, {:.0} l</h2><table><thead><tr><th>Stop</th><th>Unit</th>\
             <th>Address</th><th>Window</th><th>ETA</th><th>Lines (item, lot, quantity)</th>\
             <th>Received by (name, signature)</th></tr></thead><tbody>",
            trip.number, trip.load_kg, trip.load_litres
        ));
        for stop in &trip.stops {
            let lines: Vec<String> = rows
                .iter()
                .filter(|r| r.trip == trip.number && r.stop.order == stop.order)
                .map(|r| {
                    format!(
                        "{} — lot {} — {}",
                        esc(r.item),
                        esc(if r.lot.is_empty() { "(none)" } else { r.lot }),
                        r.quantity
                    )
                })
                .collect();
            h.push_str(&format!(
                "<tr><td>{}</td><td>{} ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td class=\"sign\"></td></tr>",
                stop.order,
                esc(&stop.site_name),
                esc(&stop.site),
                esc(stop.address.as_deref().unwrap_or("")),
                esc(stop.window.as_deref().unwrap_or("")),
                esc(&stop.eta_local),
                lines.join("<br>"),
            ));
        }
        h.push_str("</tbody></table>");
    }
    h.push_str("<p>Driver's signature: ______________________</p></body></html>");
    h
}

/// A driver's run sheet for one route of a plan: stop order, address, opening window,
/// ETA, lines with lots, and a field for the receiver's signature. Printable HTML, or CSV
/// with `?format=csv` or `Accept: text/csv`.
#[utoipa::path(get, path = "/api/v1/delivery-plans/{id}/routes/{n}/run-sheet", tag = "planning",
    params(("id" = i64, Path, description = "Plan id"), ("n" = usize, Path, description = "Route number (1-based)"), RunSheetQuery),
    responses(
        (status = 200, description = "The run sheet: HTML, or CSV when asked for", content(
            (String = "text/html"),
            (String = "text/csv"),
        )),
        (status = 400, body = Problem, content_type = "application/problem+json"),
        (status = 404, body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn run_sheet(
    auth: Auth,
    state: web::Data<AppState>,
    path: web::Path<(i64, usize)>,
    q: web::Query<RunSheetQuery>,
    req: HttpRequest,
) -> Result<HttpResponse, Problem> {
    auth.require_filtered(Permission::ReadStock, "site", None)?;
    let (id, n) = path.into_inner();
    let accept_csv = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/csv"));
    let csv = match q.format.as_deref().map(str::trim) {
        Some("csv") => true,
        Some("html") => false,
        Some(other) => {
            return Err(Problem::bad_query(
                "format",
                &format!("`{other}` is not html or csv"),
            ));
        }
        None => accept_csv,
    };
    let plan = load(&state, id).await?;
    let route = plan
        .routes
        .iter()
        .find(|r| r.number == n)
        .ok_or_else(|| Problem::not_found("route", &format!("{n} of plan {id}")))?;
    if csv {
        let body = csv_sheet(&plan, route)?;
        Ok(HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            ))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"plan-{id}-route-{n}.csv\""),
            ))
            .body(body))
    } else {
        Ok(HttpResponse::Ok()
            .insert_header((
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ))
            .body(html_sheet(&plan, route)))
    }
}

/// The request was checked on its own before planning; what planning still refuses
/// (an item without the weight a van needs, an override for a unit no longer active)
/// is the state of the catalogue and fleet contradicting the plan: 409.
fn contradicts(v: ppe_domain::validation::Violations) -> ppe_persistence::StoreError {
    ppe_persistence::StoreError::Contradicts(v)
}
