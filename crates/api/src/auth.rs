//! Bearer-token authentication: the `authenticate` middleware resolves a token by the
//! SHA-256 of its secret (through the process's token cache, which a revocation
//! invalidates: see `token_cache`) and throttles clients that keep presenting bad tokens;
//! handlers take
//! the `Auth` extractor and ask it for the permission they need. The domain's refusals
//! become 401/403/429 problem documents. Secrets never reach a log or an error.

use crate::problem::Problem;
use crate::state::AppState;
use crate::token_cache::TokenCache;
use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use actix_web::middleware::Next;
use actix_web::{FromRequest, HttpMessage, HttpRequest, ResponseError, web};
use chrono::{DateTime, Utc};
use ppe_domain::access::{
    Denied, NewToken, Permission, Principal, TokenInfo, TokenState, token_state,
};
use ppe_persistence::tokens::{self, TokenRef};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Every secret starts with this, so a leaked one is easy to recognise and scan for.
pub const SECRET_PREFIX: &str = "ppe_";
/// Failed authentications a client IP may make per window before it gets 429.
pub const DEFAULT_FAILURE_LIMIT: u32 = 20;
const FAILURE_WINDOW: Duration = Duration::from_secs(60);
/// `last_used_at` is written at most this often per token.
const TOUCH_EVERY: Duration = Duration::from_secs(60);
/// Above this many tracked clients, stale entries are dropped (bounds memory).
const MAX_TRACKED: usize = 10_000;

/// A new secret: 256 bits from the thread's cryptographically secure generator (seeded
/// and reseeded from the operating system), hex-encoded.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{SECRET_PREFIX}{}", hex::encode(bytes))
}

/// What is stored and looked up instead of the secret.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Creates a token from a validated request: a fresh secret, of which only the hash is
/// stored. Returns the token and its secret, to be shown once. Blocks.
pub fn issue(
    db: &ppe_persistence::Db,
    t: NewToken,
    now: DateTime<Utc>,
) -> Result<(TokenInfo, String), ppe_persistence::StoreError> {
    let secret = new_secret();
    let hash = hash_secret(&secret);
    let info = db.write(move |c| tokens::create_token(c, &t, &hash, now))?;
    Ok((info, secret))
}

/// Per-process authentication state: resolved tokens, the failure throttle and the
/// last-use throttle.
pub struct AuthState {
    pub tokens: TokenCache,
    failure_limit: u32,
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
    touched: Mutex<HashMap<i64, Instant>>,
}

impl AuthState {
    pub fn new(failure_limit: u32) -> AuthState {
        AuthState {
            tokens: TokenCache::default(),
            failure_limit: failure_limit.max(1),
            failures: Mutex::new(HashMap::new()),
            touched: Mutex::new(HashMap::new()),
        }
    }

    /// Seconds until `ip` may try again, when it used up its failures in this window.
    fn blocked_for(&self, ip: IpAddr, now: Instant) -> Option<u64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (start, n) = map.get(&ip)?;
        let elapsed = now.duration_since(*start);
        (elapsed < FAILURE_WINDOW && *n >= self.failure_limit)
            .then(|| (FAILURE_WINDOW - elapsed).as_secs().max(1))
    }

    fn failed(&self, ip: IpAddr, now: Instant) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_TRACKED {
            map.retain(|_, (start, _)| now.duration_since(*start) < FAILURE_WINDOW);
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.duration_since(entry.0) >= FAILURE_WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    /// True when `last_used_at` of `token` is due for a write.
    fn touch_due(&self, token: i64, now: Instant) -> bool {
        let mut map = self.touched.lock().unwrap_or_else(|e| e.into_inner());
        match map.get(&token) {
            Some(t) if now.duration_since(*t) < TOUCH_EVERY => false,
            _ => {
                if map.len() >= MAX_TRACKED {
                    map.retain(|_, t| now.duration_since(*t) < TOUCH_EVERY);
                }
                map.insert(token, now);
                true
            }
        }
    }
}

/// 401: the same answer for a missing, malformed, unknown, expired or revoked token, so
/// it never tells whether a token exists.
pub fn unauthorized() -> Problem {
    Problem::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Authentication required",
        "send a valid API token as `Authorization: Bearer <token>`",
    )
    .header(WWW_AUTHENTICATE, "Bearer realm=\"ppe\"")
}

/// 403: the token is valid but its role or site scope does not allow this.
pub fn forbidden(d: Denied) -> Problem {
    Problem::new(
        StatusCode::FORBIDDEN,
        "forbidden",
        "Forbidden",
        d.to_string(),
    )
}

fn too_many(retry_after: u64) -> Problem {
    Problem::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too-many-failed-authentications",
        "Too many failed authentications",
        format!("too many requests with a bad token from this address; retry in {retry_after} s"),
    )
    .retry_after(retry_after)
}

impl From<Denied> for Problem {
    fn from(d: Denied) -> Self {
        forbidden(d)
    }
}

/// The authenticated caller of a request. Handlers ask it for the permission they need.
#[derive(Debug, Clone)]
pub struct Auth(pub Principal);

impl Auth {
    pub fn require(&self, p: Permission) -> Result<(), Problem> {
        Ok(self.0.require(p)?)
    }

    pub fn require_at(&self, p: Permission, site: &str) -> Result<(), Problem> {
        Ok(self.0.require_at(p, site)?)
    }

    pub fn require_filtered(
        &self,
        p: Permission,
        param: &'static str,
        site: Option<&str>,
    ) -> Result<(), Problem> {
        Ok(self.0.require_filtered(p, param, site)?)
    }

    pub fn covers(&self, site: &str) -> bool {
        self.0.covers(site)
    }

    /// The token as the ledger records it.
    pub fn token(&self) -> TokenRef {
        TokenRef {
            id: self.0.token_id,
            name: self.0.token_name.clone(),
        }
    }

    /// Now, by this token: what a write records about who made it and when.
    pub fn stamp(&self) -> ppe_persistence::ledger::Stamp {
        ppe_persistence::ledger::Stamp {
            at: chrono::Utc::now(),
            by: Some(self.token()),
        }
    }
}

/// The secret of an `Authorization: Bearer …` header; `Err` when the header is there
/// but is not a bearer token.
fn bearer(req: &HttpRequest) -> Option<Result<String, ()>> {
    let v = req.headers().get(AUTHORIZATION)?;
    let parsed = v.to_str().ok().and_then(|v| {
        let (scheme, secret) = v.trim().split_once(' ')?;
        let secret = secret.trim();
        (scheme.eq_ignore_ascii_case("bearer") && !secret.is_empty()).then(|| secret.to_owned())
    });
    Some(parsed.ok_or(()))
}

impl FromRequest for Auth {
    type Error = Problem;
    type Future = std::future::Ready<Result<Auth, Problem>>;

    /// The principal `authenticate` resolved; none (a route outside it) is a 401.
    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(
            req.extensions()
                .get::<Principal>()
                .cloned()
                .map(Auth)
                .ok_or_else(unauthorized),
        )
    }
}

/// Middleware of the API scope: resolves the bearer token before anything else of the
/// request is looked at (body, path, query), so a caller without a valid token learns
/// nothing but 401 — not even whether a path exists.
pub async fn authenticate(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let checked = match resolve(req.request()).await {
        Ok(p) => admit(&p, req.request()).map(|()| p),
        Err(problem) => Err(problem),
    };
    match checked {
        Ok(p) => {
            req.extensions_mut().insert(p);
            Ok(next.call(req).await?.map_into_boxed_body())
        }
        Err(problem) => Ok(req.into_response(problem.error_response())),
    }
}

/// What is decided before the handler reads anything: the role must grant the
/// operation's permission (a caller without the right gets 403 whatever its body
/// says), then the path and query must keep the text policy. Site scopes need the
/// request's own data and stay with the handlers.
fn admit(p: &Principal, req: &HttpRequest) -> Result<(), Problem> {
    let template = req
        .extensions()
        .get::<crate::routes::RouteTemplate>()
        .map(|t| t.0);
    if let Some(Some(permission)) =
        template.and_then(|t| crate::routes::permission_of(req.method().as_str(), t))
    {
        p.require(permission)?;
    }
    crate::routes::check_path_and_query(req, template)
}

fn resolve(req: &HttpRequest) -> impl Future<Output = Result<Principal, Problem>> + 'static {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let ip = req.peer_addr().map(|a| a.ip());
    let presented = bearer(req);
    async move {
        let state = state.ok_or_else(Problem::internal)?;
        let clock = Instant::now();
        if let Some(ip) = ip
            && let Some(wait) = state.auth.blocked_for(ip, clock)
        {
            return Err(too_many(wait));
        }
        let fail = || {
            if let Some(ip) = ip {
                state.auth.failed(ip, clock);
            }
            unauthorized()
        };
        let secret = match presented {
            None => return Err(unauthorized()),
            Some(Err(())) => return Err(fail()),
            Some(Ok(s)) => s,
        };
        let hash = hash_secret(&secret);
        drop(secret);
        let found = match state.auth.tokens.get(&hash, clock) {
            Some(t) => Some(t),
            None => {
                // On a blocking thread on both backends: even SQLite's local index probe
                // may wait for a pooled connection, and an async worker must never wait.
                let lookup = state.auth.tokens.begin(clock);
                let (revoked, found) = crate::handlers::blocking(&state, {
                    let hash = hash.clone();
                    move |db| {
                        db.read(|c| {
                            // The count first: the token is then at least as new as it.
                            let revoked = tokens::revoked_count(c)?;
                            Ok((revoked, tokens::token_by_hash(c, &hash)?))
                        })
                    }
                })
                .await?;
                state
                    .auth
                    .tokens
                    .store(lookup, revoked, hash, found.clone());
                found
            }
        };
        let now = Utc::now();
        let Some(t) = found else { return Err(fail()) };
        if token_state(t.expires_at, t.revoked_at, now) != TokenState::Active {
            return Err(fail());
        }
        if state.auth.touch_due(t.id, clock) {
            touch(&state, t.id, now);
        }
        Ok(Principal {
            token_id: t.id,
            token_name: t.name,
            role: t.role,
            sites: (!t.sites.is_empty()).then(|| t.sites.into_iter().collect()),
        })
    }
}

/// Records the use in the background; a failure only loses a timestamp.
fn touch(state: &web::Data<AppState>, id: i64, now: DateTime<Utc>) {
    let state = state.clone();
    actix_web::rt::spawn(async move {
        let r = crate::handlers::blocking(&state, move |db| {
            db.write(move |c| tokens::touch_token(c, id, now))
        })
        .await;
        if let Err(e) = r {
            log::warn!("recording the use of token {id}: {e}");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_random_and_hashed() {
        let a = new_secret();
        let b = new_secret();
        assert_ne!(a, b);
        assert!(a.starts_with(SECRET_PREFIX));
        assert_eq!(a.len(), SECRET_PREFIX.len() + 64);
        let h = hash_secret(&a);
        assert_eq!(h.len(), 64);
        assert!(!h.contains(&a[SECRET_PREFIX.len()..]));
        assert_eq!(h, hash_secret(&a));
    }

    #[test]
    fn failures_are_throttled_per_address_and_window() {
        let s = AuthState::new(3);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        let other: IpAddr = "10.0.0.2".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(s.blocked_for(ip, t0), None);
            s.failed(ip, t0);
        }
        assert_eq!(s.blocked_for(ip, t0), Some(60));
        assert_eq!(s.blocked_for(other, t0), None);
        let later = t0 + FAILURE_WINDOW;
        assert_eq!(s.blocked_for(ip, later), None);
        s.failed(ip, later);
        assert_eq!(s.blocked_for(ip, later), None);
    }

    #[test]
    fn last_use_is_written_at_most_once_a_minute() {
        let s = AuthState::new(1);
        let t0 = Instant::now();
        assert!(s.touch_due(7, t0));
        assert!(!s.touch_due(7, t0 + Duration::from_secs(59)));
        assert!(s.touch_due(8, t0));
        assert!(s.touch_due(7, t0 + TOUCH_EVERY));
    }
}
