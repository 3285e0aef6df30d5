//! HTTP handlers, thin: parse, validate, call domain + persistence, map errors.

pub mod audit;
pub mod catalogue;
pub mod fleet;
pub mod forecasts;
pub mod health;
pub mod imports;
pub mod ledger;
pub mod movements;
pub mod plans;
pub mod requests;
pub mod routing;
pub mod scenarios;
pub mod tokens;
pub mod transfers;

use crate::auth::Auth;
use crate::extract::{IdempotencyKeyHeader, JsonBody};
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use ppe_persistence::catalogue::IdCache;
use ppe_persistence::idempotency::{self, IdempotencyKey, Replayable};
use ppe_persistence::ledger::Stamp;
use ppe_persistence::{DbConnection, StoreError};

/// The query of a write that carries `occurred_at`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WriteQuery {
    /// Administrators only: record a write dated before the back-dating limit (a
    /// historical import).
    pub historical: Option<bool>,
}

/// The back-dating limit: an `occurred_at` older than the server's limit needs an
/// administrator's `historical=true`; anyone else asking for it gets 403.
pub fn check_backdating(
    state: &AppState,
    auth: &Auth,
    q: &WriteQuery,
    occurred_at: Option<chrono::DateTime<chrono::Utc>>,
) -> Result<(), Problem> {
    if q.historical == Some(true) {
        if auth.0.role != ppe_domain::access::Role::Admin {
            return Err(crate::auth::forbidden(ppe_domain::access::Denied::Role {
                role: auth.0.role,
            }));
        }
        return Ok(());
    }
    Ok(ppe_domain::commands::check_backdating(
        occurred_at,
        chrono::Utc::now(),
        state.backdate_limit_days,
    )?)
}

/// The `limit` query parameter of a list: `default` when absent, else 1 to `max`.
pub fn limit_param(value: Option<i64>, default: i64, max: i64) -> Result<i64, Problem> {
    let limit = value.unwrap_or(default);
    if (1..=max).contains(&limit) {
        Ok(limit)
    } else {
        Err(Problem::bad_query(
            "limit",
            &format!("must be between 1 and {max}"),
        ))
    }
}

/// Runs a blocking storage call off the async workers.
pub async fn blocking<T: Send + 'static>(
    state: &web::Data<AppState>,
    f: impl FnOnce(&ppe_persistence::Db) -> Result<T, StoreError> + Send + 'static,
) -> Result<T, Problem> {
    let db = state.db.clone();
    Ok(web::block(move || f(&db)).await??)
}

/// What a write touches: the sites whose stock it may lock (the first picks its writer
/// lane) and, for a ledger command, the (site, item) pairs it reads and writes.
pub struct Touches<'a> {
    pub sites: &'a [&'a str],
    pub stock: Option<Vec<(String, String)>>,
}

impl<'a> Touches<'a> {
    pub fn sites(sites: &'a [&'a str]) -> Touches<'a> {
        Touches { sites, stock: None }
    }

    /// A ledger command at `sites[0]` naming `items`: its write may share a group's
    /// statements with others'.
    pub fn ledger<'i>(sites: &'a [&'a str], items: impl Iterator<Item = &'i str>) -> Touches<'a> {
        let site = sites.first().copied().unwrap_or_default();
        let stock = items
            .map(|item| (site.to_owned(), item.trim().to_owned()))
            .collect();
        Touches {
            sites,
            stock: Some(stock),
        }
    }
}

/// A write that records movements: one transaction, at most once per Idempotency-Key,
/// stamped with the caller's token. A replay answers with the stored body and
/// `Idempotent-Replayed: true`.
pub async fn write_once<B, R>(
    state: &web::Data<AppState>,
    auth: &Auth,
    key: IdempotencyKeyHeader,
    body: JsonBody<B>,
    touches: Touches<'_>,
    status: StatusCode,
    write: impl Fn(&mut DbConnection, &IdCache, &B, Stamp) -> Result<R, StoreError> + Send + 'static,
) -> Result<HttpResponse, Problem>
where
    B: Send + 'static,
    R: Replayable + Send + 'static,
{
    let cmd = body.value;
    let ids = state.db.ids();
    write_keyed(
        state,
        auth,
        key.0,
        body.fingerprint,
        touches,
        status,
        move |c, stamp| write(c, &ids, &cmd, stamp),
    )
    .await
}

/// [`write_once`] for a request that is not a JSON body: `fingerprint` identifies the
/// request a key was first used with.
pub async fn write_keyed<R>(
    state: &web::Data<AppState>,
    auth: &Auth,
    key: Option<String>,
    fingerprint: String,
    touches: Touches<'_>,
    status: StatusCode,
    write: impl Fn(&mut DbConnection, Stamp) -> Result<R, StoreError> + Send + 'static,
) -> Result<HttpResponse, Problem>
where
    R: Replayable + Send + 'static,
{
    let now = chrono::Utc::now();
    let mut key = key.map(|k| IdempotencyKey::new(k, fingerprint));
    let stamp = Stamp {
        at: now,
        ..auth.stamp()
    };
    let job = move |c: &mut DbConnection| {
        idempotency::run_once(c, key.as_mut(), now, |c| {
            Ok((status.as_u16(), write(c, stamp.clone())?))
        })
    };
    // Straight onto a group-committing writer: no blocking thread, one commit per group.
    let answer = state
        .db
        .write_queued(touches.sites, touches.stock, job)
        .await
        .map_err(|_| StoreError::Unavailable("the writer stopped".into()))??;
    let mut res = HttpResponse::build(StatusCode::from_u16(answer.status).unwrap_or(status));
    res.content_type("application/json");
    if answer.replayed {
        res.insert_header(("Idempotent-Replayed", "true"));
    }
    // A fresh answer is rendered here, on this worker, rather than on the writer.
    Ok(res.body(answer.json()?))
}
