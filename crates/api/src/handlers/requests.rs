//! Units' supply requests: a unit asks, a delivery plan takes the request up, the receipt
//! of its delivery closes it.

use super::{blocking, write_once};
use crate::auth::Auth;
use crate::extract::{IdempotencyKeyHeader, JsonBody};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use ppe_domain::access::Permission;
use ppe_domain::requests::{NewSupplyRequest, RequestStatus, SupplyRequest};
use ppe_persistence::requests;
use serde::Deserialize;

/// A unit asks for stock: lines of item and quantity, optionally a date it is needed by,
/// urgent (allocated in the first tier), and why. The next replenishment proposal and
/// delivery plan take it up.
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = NewSupplyRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Client-chosen key for safe retries")),
    responses(
        (status = 201, body = SupplyRequest),
        (status = 422, description = "Invalid field", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn create(
    auth: Auth,
    state: web::Data<AppState>,
    key: IdempotencyKeyHeader,
    body: JsonBody<NewSupplyRequest>,
) -> Result<HttpResponse, Problem> {
    auth.require_at(Permission::RequestSupply, body.value.site.trim())?;
    let today = state.forecasting.local_day(chrono::Utc::now());
    body.value.validate(today)?;
    let lane = body.value.site.trim().to_owned();
    write_once(
        &state,
        &auth,
        key,
        body,
        super::Touches::sites(&[&lane]),
        StatusCode::CREATED,
        |c, _, r, now| requests::create_request(c, r, now),
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RequestQuery {
    /// Unit code.
    pub site: Option<String>,
    pub status: Option<RequestStatus>,
    /// At most this many, newest first (1–500, default 100).
    pub limit: Option<i64>,
}

/// Supply requests, newest first.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(RequestQuery), responses(
    (status = 200, body = Vec<SupplyRequest>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
))]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<RequestQuery>,
) -> Result<HttpResponse, Problem> {
    let q = q.into_inner();
    auth.require_filtered(Permission::ReadStock, "site", q.site.as_deref())?;
    let limit = super::limit_param(q.limit, 100, 500)?;
    let rows = blocking(&state, move |db| {
        db.read(|c| requests::list_requests(c, q.site.as_deref(), q.status, limit))
    })
    .await?;
    Ok(HttpResponse::Ok().json(rows))
}

async fn load(
    state: &web::Data<AppState>,
    auth: &Auth,
    p: Permission,
    id: i64,
) -> Result<SupplyRequest, Problem> {
    auth.require(p)?;
    let r = blocking(state, move |db| db.read(|c| requests::request_by_id(c, id)))
        .await?
        .ok_or_else(|| Problem::not_found("request", &id.to_string()))?;
    auth.require_at(p, &r.site)?;
    Ok(r)
}

/// One supply request.
#[utoipa::path(get, path = "/api/v1/requests/{id}", tag = "requests",
    params(("id" = i64, Path, description = "Request id")),
    responses((status = 200, body = SupplyRequest), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    let r = load(&state, &auth, Permission::ReadStock, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(r))
}

/// Cancel an open request (one a plan took up is the plan's to cancel).
#[utoipa::path(post, path = "/api/v1/requests/{id}/cancel", tag = "requests",
    params(("id" = i64, Path, description = "Request id")),
    responses(
        (status = 200, body = SupplyRequest),
        (status = 404, body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not open any more", body = Problem, content_type = "application/problem+json"),
    ))]
pub async fn cancel(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    let id = id.into_inner();
    let r = load(&state, &auth, Permission::RequestSupply, id).await?;
    let stamp = auth.stamp();
    let done = blocking(&state, move |db| {
        db.write(move |c| requests::cancel_request(c, r.id, stamp.clone()))
    })
    .await?;
    Ok(HttpResponse::Ok().json(done))
}
