//! API tokens, for administrators: create (the secret is answered once), list, revoke;
//! and, for every caller, what its own token allows.

use super::blocking;
use crate::auth::Auth;
use crate::extract::JsonBody;
use crate::problem::Problem;
use crate::state::AppState;
use actix_web::{HttpResponse, web};
use ppe_domain::access::{NewToken, Permission, Role, TokenInfo};
use ppe_persistence::tokens;
use serde::Serialize;

#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedToken {
    pub token: TokenInfo,
    /// The bearer secret. Shown only in this answer: only its SHA-256 is stored.
    pub secret: String,
}

/// Create an API token; the answer holds its secret, which cannot be read again.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = NewToken, responses(
    (status = 201, body = CreatedToken),
    (status = 422, description = "Invalid field or unknown site", body = Problem, content_type = "application/problem+json"),
))]
pub async fn create(
    auth: Auth,
    state: web::Data<AppState>,
    body: JsonBody<NewToken>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ManageTokens)?;
    let t = body.value.validate()?;
    let now = chrono::Utc::now();
    let (token, secret) = blocking(&state, move |db| crate::auth::issue(db, t, now)).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(CreatedToken { token, secret }))
}

/// Every token (never their secrets), oldest first.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", responses((status = 200, body = Vec<TokenInfo>)))]
pub async fn list(auth: Auth, state: web::Data<AppState>) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ManageTokens)?;
    let all = blocking(&state, |db| db.read(tokens::list_tokens)).await?;
    Ok(HttpResponse::Ok().json(all))
}

/// Revoke a token: it is refused from the next request on. Revoking twice keeps the first time.
#[utoipa::path(post, path = "/api/v1/tokens/{id}/revoke", tag = "tokens",
    params(("id" = i64, Path, description = "Token id")),
    responses((status = 200, body = TokenInfo), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke(
    auth: Auth,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> Result<HttpResponse, Problem> {
    auth.require(Permission::ManageTokens)?;
    let id = id.into_inner();
    let now = chrono::Utc::now();
    // The cache is dropped on the blocking thread right after the commit, so that a client
    // gone before the answer cannot leave the revoked token cached here.
    let cache = state.clone();
    let t = blocking(&state, move |db| {
        let t = db.write(move |c| tokens::revoke_token(c, id, now))?;
        cache.auth.tokens.forget_all();
        Ok(t)
    })
    .await
    .map_err(crate::handlers::catalogue::not_found_in_path)?;
    Ok(HttpResponse::Ok().json(t))
}

/// The caller's own token: what it is called, its role, the sites it is limited to and
/// every permission it grants (the dashboard offers only what these allow).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    pub token_id: i64,
    pub name: String,
    pub role: Role,
    /// The sites the token is limited to; absent: every site.
    pub sites: Option<Vec<String>>,
    pub permissions: Vec<Permission>,
}

/// Who the caller is and what it may do.
#[utoipa::path(get, path = "/api/v1/me", tag = "tokens", responses((status = 200, body = Me)))]
pub async fn me(auth: Auth) -> HttpResponse {
    let p = auth.0;
    let permissions = Permission::ALL
        .iter()
        .copied()
        .filter(|&x| p.role.allows(x))
        .collect();
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(Me {
            token_id: p.token_id,
            name: p.token_name,
            role: p.role,
            sites: p.sites.map(|s| s.into_iter().collect()),
            permissions,
        })
}
