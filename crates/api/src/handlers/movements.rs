//! The movement ledger, filtered and paged by cursor.

use super::blocking;
use crate::auth::Auth;
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use ppe_domain::access::Permission;
use ppe_domain::ledger::Movement;
use ppe_domain::stock::MovementKind;
use ppe_persistence::reads::{self, MovementFilter};
use serde::{Deserialize, Serialize};

const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct MovementQuery {
    /// Site code.
    pub site: Option<String>,
    /// Item SKU.
    pub item: Option<String>,
    pub kind: Option<MovementKind>,
    /// Occurred at or after (UTC, ISO 8601).
    pub from: Option<DateTime<Utc>>,
    /// Occurred before (UTC, ISO 8601).
    pub to: Option<DateTime<Utc>>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1–1000 (default 100).
    pub limit: Option<i64>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct MovementPage {
    pub items: Vec<Movement>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// The ledger in recording order.
#[utoipa::path(get, path = "/api/v1/movements", tag = "stock", params(MovementQuery), responses(
    (status = 200, body = MovementPage),
    (status = 400, body = Problem, content_type = "application/problem+json"),
    (status = 422, description = "Unknown site or item", body = Problem, content_type = "application/problem+json"),
))]
pub async fn list_movements(
    auth: Auth,
    state: web::Data<AppState>,
    q: web::Query<MovementQuery>,
) -> Result<HttpResponse, Problem> {
    let q = q.into_inner();
    auth.require_filtered(Permission::ReadStock, "site", q.site.as_deref())?;
    let limit = super::limit_param(q.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    // The cursor is the id of the last movement seen; opaque to clients.
    let after_id = match q.cursor.as_deref() {
        None => None,
        Some(c) => Some(
            c.parse::<i64>()
                .map_err(|_| Problem::bad_query("cursor", "is not a cursor this server gave"))?,
        ),
    };
    let filter = MovementFilter {
        site: q.site,
        item: q.item,
        kind: q.kind,
        from: q.from,
        to: q.to,
        after_id,
        limit,
    };
    let (items, more) = blocking(&state, move |db| {
        db.read(|c| reads::movements_page(c, &filter))
    })
    .await?;
    let next_cursor = if more {
        items.last().map(|m| m.id.to_string())
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(MovementPage { items, next_cursor }))
}
