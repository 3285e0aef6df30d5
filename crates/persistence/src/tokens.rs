//! API tokens: rows found by the SHA-256 of their secret (the secret itself is never
//! stored), with the sites each is limited to.

use crate::catalogue::{parse_text, site_ref, utc};
use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::{api_tokens, sites, token_sites};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use ppe_domain::access::{NewToken, TokenInfo};
use std::collections::HashMap;

/// The token that records a write, as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRef {
    pub id: i64,
    pub name: String,
}

type TokenTuple = (
    i64,
    String,
    String,
    NaiveDateTime,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
);

const COLUMNS: (
    api_tokens::id,
    api_tokens::name,
    api_tokens::role,
    api_tokens::created_at,
    api_tokens::expires_at,
    api_tokens::revoked_at,
    api_tokens::last_used_at,
) = (
    api_tokens::id,
    api_tokens::name,
    api_tokens::role,
    api_tokens::created_at,
    api_tokens::expires_at,
    api_tokens::revoked_at,
    api_tokens::last_used_at,
);

fn info(t: TokenTuple, sites: Vec<String>) -> Result<TokenInfo, StoreError> {
    Ok(TokenInfo {
        id: t.0,
        name: t.1,
        role: parse_text(&t.2)?,
        sites,
        created_at: utc(t.3),
        expires_at: t.4.map(utc),
        revoked_at: t.5.map(utc),
        last_used_at: t.6.map(utc),
    })
}

/// Site codes of every scoped token, sorted.
fn scopes(conn: &mut DbConnection) -> Result<HashMap<i64, Vec<String>>, StoreError> {
    let rows = token_sites::table
        .inner_join(sites::table)
        .select((token_sites::token_id, sites::code))
        .order((token_sites::token_id, sites::code))
        .load::<(i64, String)>(conn)?;
    let mut out: HashMap<i64, Vec<String>> = HashMap::new();
    for (id, code) in rows {
        out.entry(id).or_default().push(code);
    }
    Ok(out)
}

/// Stores a validated token under the hash of its secret; `sites[i]` names an unknown site.
pub fn create_token(
    conn: &mut DbConnection,
    t: &NewToken,
    secret_sha256: &str,
    now: DateTime<Utc>,
) -> Result<TokenInfo, StoreError> {
    let mut site_ids = Vec::with_capacity(t.sites.len());
    for (i, code) in t.sites.iter().enumerate() {
        site_ids.push(site_ref(conn, &format!("sites[{i}]"), code)?.0);
    }
    let expires_at = t
        .expires_in_days
        .map(|d| (now + chrono::Duration::days(d)).naive_utc());
    let id = diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::name.eq(&t.name),
            api_tokens::role.eq(t.role.as_str()),
            api_tokens::secret_sha256.eq(secret_sha256),
            api_tokens::created_at.eq(now.naive_utc()),
            api_tokens::expires_at.eq(expires_at),
        ))
        .returning(api_tokens::id)
        .get_result::<i64>(conn)?;
    for site in site_ids {
        diesel::insert_into(token_sites::table)
            .values((token_sites::token_id.eq(id), token_sites::site_id.eq(site)))
            .execute(conn)?;
    }
    token_by_id(conn, id)?.ok_or_else(|| StoreError::not_found("id", "token", id.to_string()))
}

pub fn token_by_id(conn: &mut DbConnection, id: i64) -> Result<Option<TokenInfo>, StoreError> {
    let row = api_tokens::table
        .find(id)
        .select(COLUMNS)
        .first::<TokenTuple>(conn)
        .optional()?;
    with_scope(conn, row)
}

/// The token whose secret hashes to `secret_sha256`, whatever its state, with its sites.
/// Every authenticated request runs this, so it is one fixed (hence prepared and cached)
/// query: one row per scoped site, or one row without a site for an unscoped token.
pub fn token_by_hash(
    conn: &mut DbConnection,
    secret_sha256: &str,
) -> Result<Option<TokenInfo>, StoreError> {
    let rows = api_tokens::table
        .left_join(token_sites::table.inner_join(sites::table))
        .filter(api_tokens::secret_sha256.eq(secret_sha256))
        .select((COLUMNS, sites::code.nullable()))
        .order(sites::code)
        .load::<(TokenTuple, Option<String>)>(conn)?;
    let mut rows = rows.into_iter();
    let Some((t, first)) = rows.next() else {
        return Ok(None);
    };
    let sites = first
        .into_iter()
        .chain(rows.filter_map(|(_, s)| s))
        .collect();
    info(t, sites).map(Some)
}

fn with_scope(
    conn: &mut DbConnection,
    row: Option<TokenTuple>,
) -> Result<Option<TokenInfo>, StoreError> {
    let Some(t) = row else { return Ok(None) };
    let sites = token_sites::table
        .inner_join(sites::table)
        .filter(token_sites::token_id.eq(t.0))
        .select(sites::code)
        .order(sites::code)
        .load::<String>(conn)?;
    info(t, sites).map(Some)
}

/// Every token, oldest first.
pub fn list_tokens(conn: &mut DbConnection) -> Result<Vec<TokenInfo>, StoreError> {
    let rows = api_tokens::table
        .order(api_tokens::id)
        .select(COLUMNS)
        .load::<TokenTuple>(conn)?;
    let mut scopes = scopes(conn)?;
    rows.into_iter()
        .map(|t| {
            let sites = scopes.remove(&t.0).unwrap_or_default();
            info(t, sites)
        })
        .collect()
}

/// Revokes a token from `now` on; revoking it again keeps the first time.
pub fn revoke_token(
    conn: &mut DbConnection,
    id: i64,
    now: DateTime<Utc>,
) -> Result<TokenInfo, StoreError> {
    diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(now.naive_utc())))
    .execute(conn)?;
    token_by_id(conn, id)?.ok_or_else(|| StoreError::not_found("id", "token", id.to_string()))
}

/// Revokes every active token with one of these names (the demo's, before it makes new ones).
pub fn revoke_named(
    conn: &mut DbConnection,
    names: &[&str],
    now: DateTime<Utc>,
) -> Result<usize, StoreError> {
    Ok(diesel::update(
        api_tokens::table
            .filter(api_tokens::name.eq_any(names.to_vec()))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(Some(now.naive_utc())))
    .execute(conn)?)
}

/// How many tokens have ever been revoked. Tokens are never un-revoked or deleted, so
/// a process that caches tokens learns from a change of this number that one was.
pub fn revoked_count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(api_tokens::table
        .filter(api_tokens::revoked_at.is_not_null())
        .count()
        .get_result(conn)?)
}

/// Notes that a token was used (callers throttle this to about once a minute).
pub fn touch_token(conn: &mut DbConnection, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_used_at.eq(Some(now.naive_utc())))
        .execute(conn)?;
    Ok(())
}
