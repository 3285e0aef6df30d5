//! The audit trail of edits to items, sites and vehicles.

use super::{blocking, limit_param};
use crate::auth::Auth;
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use ppe_domain::access::Permission;
use ppe_domain::audit::{AuditAction, AuditedEntity};
use ppe_persistence::audit;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `item`, `site` or `vehicle`.
    pub entity: AuditedEntity,
    /// The SKU or code of one record; all records of the kind without it.
    pub key: Option<String>,
    /// At most this many, newest first (1–500, default 100).
    pub limit: Option<i64>,
}

/// One change: the record before (absent for a creation) and after, who and when.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub entity: AuditedEntity,
    /// SKU or code.
    pub key: String,
    pub action: AuditAction,
    #[schema(value_type = Option<Object>)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub after: serde_json::Value,
    /// The API token that made the change (absent outside the API, e.g. the demo seed).
    pub token_name: Option<String>,
    pub recorded_at: DateTime<Utc>,
}

/// Who changed an item, a site or a vehicle, and how: the record before and after each
/// creation and edit, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "catalogue", params(AuditQuery), responses(
    (status = 200, body = Vec<AuditEntry>),
    (status = 400, body = Problem, content_type = "application/problem+json"),
))]
pub async fn list(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ReadCatalogue)?;
    let q = q.into_inner();
    let limit = limit_param(q.limit, 100, 500)?;
    let rows = blocking(&state, move |db| {
        db.read(|c| audit::history(c, q.entity, q.key.as_deref(), limit))
    })
    .await?;
    let out: Vec<AuditEntry> = rows
        .into_iter()
        .map(|e| AuditEntry {
            id: e.id,
            entity: e.entity,
            key: e.key,
            action: e.action,
            before: e.before,
            after: e.after,
            token_name: e.token_name,
            recorded_at: e.recorded_at,
        })
        .collect();
    Ok(HttpResponse::Ok().json(out))
}
