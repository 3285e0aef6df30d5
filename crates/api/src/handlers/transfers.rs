//! Transfers from the warehouse to units: dispatch, then proof of delivery.

use super::{blocking, write_once};
use crate::auth::Auth;
use crate::export::{self, ExportFormat};
use crate::extract::{IdempotencyKeyHeader, JsonBody};
use crate::handlers::catalogue::not_found_in_path;
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use ppe_domain::access::Permission;
use ppe_domain::commands::{CancelTransfer, Dispatch, ReceiveTransfer};
use ppe_domain::ledger::{Discrepancy, Recorded, Transfer, TransferStatus};
use ppe_persistence::{ledger, reads};
use serde::Deserialize;

/// Dispatch stock from a warehouse to a unit; it is in transit until received.
#[utoipa::path(post, path = "/api/v1/transfers", tag = "transfers", request_body = Dispatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key for safe retries"), super::WriteQuery),
    responses(
        (status = 201, body = Recorded),
        (status = 409, description = "More than the warehouse holds", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn dispatch(
    auth: Auth,
    state: web::Data<AppState>,
    key: IdempotencyKeyHeader,
    q: web::Query<super::WriteQuery>,
    body: JsonBody<Dispatch>,
) -> Result<HttpResponse, Problem> {
    auth.require_at(Permission::Dispatch, &body.value.from_site)?;
    body.value.validate(chrono::Utc::now())?;
    super::check_backdating(&state, &auth, &q, body.value.occurred_at)?;
    let lane = body.value.from_site.trim().to_owned();
    write_once(
        &state,
        &auth,
        key,
        body,
        super::Touches::sites(&[&lane]),
        StatusCode::CREATED,
        ledger::dispatch_transfer,
    )
    .await
}

/// Proof of delivery: the unit confirms what arrived. Lines not named in `lines` arrived
/// whole; a named line gives the quantity accepted and, for the rest, the outcome (short,
/// damaged, refused, expired, wrong item) and where it went (`returned` to the depot, on
/// hand there again, or `lost` in transit, written off). The transfer becomes `received`
/// or `received_with_discrepancy`; a plan whose every stop is closed becomes `completed`.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/receive", tag = "transfers", request_body = ReceiveTransfer,
    params(("id" = i64, Path, description = "Transfer id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key for safe retries"), super::WriteQuery),
    responses(
        (status = 200, body = Recorded),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already received or cancelled, or lines that contradict the shipment: a line it does not have, more than it carried, a shortfall without outcome and disposition", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field: a line named twice, a note, a date out of range", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn receive(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    key: IdempotencyKeyHeader,
    q: web::Query<super::WriteQuery>,
    body: JsonBody<ReceiveTransfer>,
) -> Result<HttpResponse, Problem> {
    receive_by_id(auth, state, id.into_inner(), key, &q, body).await
}

/// Proof of delivery of transfer `id`, checked against its destination.
pub(crate) async fn receive_by_id(
    auth: Auth,
    state: web::Data<AppState>,
    id: i64,
    key: IdempotencyKeyHeader,
    q: &super::WriteQuery,
    body: JsonBody<ReceiveTransfer>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReceiveTransfer)?;
    // The destination of a transfer never changes, so checking it before the write is safe.
    let t = blocking(&state, move |db| db.read(|c| reads::transfer_by_id(c, id)))
        .await?
        .ok_or_else(|| Problem::not_found("transfer", &id.to_string()))?;
    auth.require_at(Permission::ReceiveTransfer, &t.to_site)?;
    body.value.validate(chrono::Utc::now())?;
    super::check_backdating(&state, &auth, q, body.value.occurred_at)?;
    // The unit's lane: receiving locks the unit's balances, and the depot's when the
    // driver takes something back.
    write_once(
        &state,
        &auth,
        key,
        body,
        super::Touches::sites(&[&t.to_site, &t.from_site]),
        StatusCode::OK,
        move |c, ids, cmd, now| ledger::receive_transfer(c, ids, id, cmd, now),
    )
    .await
    .map_err(|p| {
        if p.errors.iter().any(|e| e.field == "id") {
            not_found_in_path(p)
        } else {
            p
        }
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct TransferQuery {
    pub status: Option<TransferStatus>,
    /// Site code (either end).
    pub site: Option<String>,
    /// At most this many, newest first (1–500, default 100).
    pub limit: Option<i64>,
    /// `json` (default), `csv` or `xlsx` (a transfer's lines stay JSON text in one cell).
    pub format: Option<ExportFormat>,
}

/// Transfers, newest first.
#[utoipa::path(get, path = "/api/v1/transfers", tag = "transfers", params(TransferQuery), responses(
    (status = 200, description = "The transfers, as JSON, CSV or an Excel workbook", content(
        (Vec<Transfer> = "application/json"),
        (String = "text/csv"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    )),
    (status = 400, body = Problem, content_type = "application/problem+json"),
))]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<TransferQuery>,
    req: actix_web::HttpRequest,
) -> Result<HttpResponse, Problem> {
    let q = q.into_inner();
    auth.require_filtered(Permission::ReadStock, "site", q.site.as_deref())?;
    let format = ExportFormat::negotiate(q.format, &req);
    let limit = super::limit_param(q.limit, 100, 500)?;
    let rows = blocking(&state, move |db| {
        db.read(|c| reads::list_transfers(c, q.status, q.site.as_deref(), limit))
    })
    .await?;
    export::respond_rows(format, "transfers", &rows).await
}

/// One transfer.
#[utoipa::path(get, path = "/api/v1/transfers/{id}", tag = "transfers",
    params(("id" = i64, Path, description = "Transfer id")),
    responses((status = 200, body = Transfer), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReadStock)?;
    let id = id.into_inner();
    let t = blocking(&state, move |db| db.read(|c| reads::transfer_by_id(c, id)))
        .await?
        .ok_or_else(|| Problem::not_found("transfer", &id.to_string()))?;
    if !auth.covers(&t.from_site) {
        auth.require_at(Permission::ReadStock, &t.to_site)?;
    }
    Ok(HttpResponse::Ok().json(t))
}

/// A dispatched transfer that never left: cancelled, its stock back on hand at the depot
/// (a `transfer_return` movement), its unit's requests open again.
#[utoipa::path(post, path = "/api/v1/transfers/{id}/cancel", tag = "transfers", request_body = CancelTransfer,
    params(("id" = i64, Path, description = "Transfer id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key for safe retries")),
    responses(
        (status = 200, body = Recorded),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already received or cancelled", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    key: IdempotencyKeyHeader,
    body: JsonBody<CancelTransfer>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::Dispatch)?;
    let id = id.into_inner();
    let t = blocking(&state, move |db| db.read(|c| reads::transfer_by_id(c, id)))
        .await?
        .ok_or_else(|| Problem::not_found("transfer", &id.to_string()))?;
    auth.require_at(Permission::Dispatch, &t.from_site)?;
    body.value.validate()?;
    let lane = t.from_site;
    write_once(
        &state,
        &auth,
        key,
        body,
        super::Touches::sites(&[&lane]),
        StatusCode::OK,
        move |c, ids, cmd, now| ledger::cancel_transfer(c, ids, id, cmd, now),
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DiscrepancyQuery {
    /// Site code (either end).
    pub site: Option<String>,
    /// Delivery plan id.
    pub plan: Option<i64>,
    /// Transfers to look at, newest first (1–500, default 100).
    pub limit: Option<i64>,
}

/// Lines that did not arrive whole: shipped, received, why and where the rest went.
#[utoipa::path(get, path = "/api/v1/discrepancies", tag = "transfers", params(DiscrepancyQuery), responses(
    (status = 200, body = Vec<Discrepancy>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown site", body = Problem, content_type = "application/problem+json"),
))]
pub async fn discrepancies(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<DiscrepancyQuery>,
) -> Result<HttpResponse, Problem> {
    let q = q.into_inner();
    auth.require_filtered(Permission::ReadStock, "site", q.site.as_deref())?;
    let limit = super::limit_param(q.limit, 100, 500)?;
    let rows = blocking(&state, move |db| {
        db.read(|c| reads::discrepancies(c, q.site.as_deref(), q.plan, limit))
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}
