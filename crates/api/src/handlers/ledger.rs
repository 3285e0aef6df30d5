//! Writes to the stock ledger: stock reports (counts), receipts, issues and discards.
//! Each is atomic and idempotent under an `Idempotency-Key`.

use super::write_once;
use crate::auth::Auth;
use crate::extract::{IdempotencyKeyHeader, JsonBody};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use ppe_domain::access::Permission;
use ppe_domain::commands::{Discard, IssueReport, Receipt, StockReport};
use ppe_domain::ledger::Recorded;
use ppe_persistence::ledger;

/// A unit's stock report: counted quantities per item (and lot), applied atomically.
/// The ledger records each difference as a count adjustment.
#[utoipa::path(post, path = "/api/v1/stock-reports", tag = "stock", request_body = StockReport,
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key; a retry with it returns the first answer and writes nothing"), super::WriteQuery),
    responses(
        (status = 201, body = Recorded),
        (status = 400, description = "Malformed JSON or header", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field, or a reused key", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_stock_report(
    auth: Auth,
    state: web::Data<AppState>,
    key: IdempotencyKeyHeader,
    q: web::Query<super::WriteQuery>,
    body: JsonBody<StockReport>,
) -> Result<HttpResponse, Problem> {
    auth.require_at(Permission::ReportStock, &body.value.site)?;
    body.value.validate(chrono::Utc::now())?;
    super::check_backdating(&state, &auth, &q, body.value.occurred_at)?;
    let lane = body.value.site.trim().to_owned();
    let sites = [lane.as_str()];
    let touches = super::Touches::ledger(&sites, body.value.lines.iter().map(|l| l.item.as_str()));
    write_once(
        &state,
        &auth,
        key,
        body,
        touches,
        StatusCode::CREATED,
        ledger::record_report,
    )
    .await
}

/// Stock arriving at a warehouse (optional lot and expiry).
#[utoipa::path(post, path = "/api/v1/receipts", tag = "stock", request_body = Receipt,
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key for safe retries"), super::WriteQuery),
    responses(
        (status = 201, body = Recorded),
        (status = 422, description = "Invalid field, not a warehouse, unknown site or item", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_receipt(
    auth: Auth,
    state: web::Data<AppState>,
    key: IdempotencyKeyHeader,
    q: web::Query<super::WriteQuery>,
    body: JsonBody<Receipt>,
) -> Result<HttpResponse, Problem> {
    auth.require_at(Permission::Receive, &body.value.site)?;
    body.value.validate(chrono::Utc::now())?;
    super::check_backdating(&state, &auth, &q, body.value.occurred_at)?;
    let lane = body.value.site.trim().to_owned();
    let sites = [lane.as_str()];
    let touches = super::Touches::ledger(&sites, body.value.lines.iter().map(|l| l.item.as_str()));
    write_once(
        &state,
        &auth,
        key,
        body,
        touches,
        StatusCode::CREATED,
        ledger::record_receipt,
    )
    .await
}

/// Stock used at a site. Refused when it exceeds the balance.
#[utoipa::path(post, path = "/api/v1/issues", tag = "stock", request_body = IssueReport,
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key for safe retries"), super::WriteQuery),
    responses(
        (status = 201, body = Recorded),
        (status = 409, description = "More than the balance", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_issue(
    auth: Auth,
    state: web::Data<AppState>,
    key: IdempotencyKeyHeader,
    q: web::Query<super::WriteQuery>,
    body: JsonBody<IssueReport>,
) -> Result<HttpResponse, Problem> {
    auth.require_at(Permission::Issue, &body.value.site)?;
    body.value.validate(chrono::Utc::now())?;
    super::check_backdating(&state, &auth, &q, body.value.occurred_at)?;
    let lane = body.value.site.trim().to_owned();
    let sites = [lane.as_str()];
    let touches = super::Touches::ledger(&sites, body.value.lines.iter().map(|l| l.item.as_str()));
    write_once(
        &state,
        &auth,
        key,
        body,
        touches,
        StatusCode::CREATED,
        ledger::record_issue,
    )
    .await
}

/// Expired or damaged stock thrown away, with a reason.
#[utoipa::path(post, path = "/api/v1/discards", tag = "stock", request_body = Discard,
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key for safe retries"), super::WriteQuery),
    responses(
        (status = 201, body = Recorded),
        (status = 409, description = "More than the balance", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn post_discard(
    auth: Auth,
    state: web::Data<AppState>,
    key: IdempotencyKeyHeader,
    q: web::Query<super::WriteQuery>,
    body: JsonBody<Discard>,
) -> Result<HttpResponse, Problem> {
    auth.require_at(Permission::Discard, &body.value.site)?;
    body.value.validate(chrono::Utc::now())?;
    super::check_backdating(&state, &auth, &q, body.value.occurred_at)?;
    let lane = body.value.site.trim().to_owned();
    let sites = [lane.as_str()];
    let touches = super::Touches::ledger(&sites, body.value.lines.iter().map(|l| l.item.as_str()));
    write_once(
        &state,
        &auth,
        key,
        body,
        touches,
        StatusCode::CREATED,
        ledger::record_discard,
    )
    .await
}
