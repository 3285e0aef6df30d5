//! Idempotent writes: a client-chosen key makes a retry return the first answer and
//! write nothing new. The key is stored in the same transaction as the movements, so
//! either both exist or neither does. Only successful answers are remembered: a
//! refused request may be retried with the same key once the refusal no longer holds.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::idempotency_keys;
use chrono::{DateTime, Utc};
use diesel::prelude::*;

/// A client's key and the fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
}

/// An answer ready to send: status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// True when this is the stored answer of an earlier request.
    pub replayed: bool,
}

/// Runs `write` unless `key` was seen before; stores its answer under the key.
/// Call inside a transaction (`Db::write`).
pub fn run_once(
    conn: &mut DbConnection,
    key: Option<&IdempotencyKey>,
    now: DateTime<Utc>,
    write: impl FnOnce(&mut DbConnection) -> Result<(u16, String), StoreError>,
) -> Result<Answer, StoreError> {
    if let Some(k) = key {
        let seen = idempotency_keys::table
            .find(&k.key)
            .select((
                idempotency_keys::request_hash,
                idempotency_keys::status,
                idempotency_keys::response,
            ))
            .first::<(String, i32, String)>(conn)
            .optional()?;
        if let Some((hash, status, body)) = seen {
            if hash != k.request_hash {
                return Err(StoreError::IdempotencyMismatch);
            }
            return Ok(Answer {
                status: status as u16,
                body,
                replayed: true,
            });
        }
    }
    let (status, body) = write(conn)?;
    if let Some(k) = key {
        // A concurrent twin that got here first makes this insert fail with a unique
        // violation; the transaction is retried and then replays the twin's answer.
        diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::key.eq(&k.key),
                idempotency_keys::request_hash.eq(&k.request_hash),
                idempotency_keys::status.eq(i32::from(status)),
                idempotency_keys::response.eq(&body),
                idempotency_keys::created_at.eq(now.naive_utc()),
            ))
            .execute(conn)?;
    }
    Ok(Answer {
        status,
        body,
        replayed: false,
    })
}
