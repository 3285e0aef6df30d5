//! Idempotent writes: a client-chosen key makes a retry return the first answer and
//! write nothing new. The key is stored in the same transaction as the movements, so
//! either both exist or neither does. Only successful answers are remembered: a
//! refused request may be retried with the same key once the refusal no longer holds.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::idempotency_keys;
use crate::statements::{InsertKey, PgParam};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use std::cell::RefCell;

/// A client's key and the fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct IdempotencyKey {
    pub key: String,
    pub request_hash: String,
    /// Set once this key's insert collided: the next attempt looks the key up first.
    look_first: bool,
}

impl IdempotencyKey {
    pub fn new(key: impl Into<String>, request_hash: impl Into<String>) -> IdempotencyKey {
        IdempotencyKey {
            key: key.into(),
            request_hash: request_hash.into(),
            look_first: false,
        }
    }
}

/// An answer ready to send: status and JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    /// True when this is the stored answer of an earlier request.
    pub replayed: bool,
}

/// The stored answer under `k`, if any; a mismatch when it came with another request.
fn stored(conn: &mut DbConnection, k: &IdempotencyKey) -> Result<Option<Answer>, StoreError> {
    let seen = idempotency_keys::table
        .find(&k.key)
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::response,
        ))
        // By primary key, so no LIMIT: SQLite re-prepares a statement whenever a bound
        // LIMIT is bound again.
        .get_result::<(String, i32, String)>(conn)
        .optional()?;
    match seen {
        None => Ok(None),
        Some((hash, _, _)) if hash != k.request_hash => Err(StoreError::IdempotencyMismatch),
        Some((_, status, body)) => Ok(Some(Answer {
            status: status as u16,
            body,
            replayed: true,
        })),
    }
}

/// Runs `write` unless `key` was seen before; stores its answer under the key.
/// Call inside a transaction (`Db::write`), which runs it again after a collision.
///
/// Optimistic: most keys are new, so the write goes first and the key's insert
/// detects a repeat (a unique violation). The transaction is then rolled back and
/// retried, and the retry looks the key up before writing. This saves a round trip
/// per request on PostgreSQL. A write that is refused also looks the key up, so a
/// retry of a request that succeeded earlier replays its answer instead of a refusal.
pub fn run_once(
    conn: &mut DbConnection,
    key: Option<&mut IdempotencyKey>,
    now: DateTime<Utc>,
    write: impl FnOnce(&mut DbConnection) -> Result<(u16, String), StoreError>,
) -> Result<Answer, StoreError> {
    if let Some(k) = key.as_deref()
        && k.look_first
        && let Some(a) = stored(conn, k)?
    {
        return Ok(a);
    }
    let (status, body) = match write(conn) {
        Ok(answer) => answer,
        Err(e) => {
            if let Some(k) = key.as_deref()
                && !k.look_first
            {
                // After a database error the transaction may be unusable: keep `e`.
                match stored(conn, k) {
                    Ok(Some(a)) => return Ok(a),
                    Err(StoreError::IdempotencyMismatch) => {
                        return Err(StoreError::IdempotencyMismatch);
                    }
                    _ => {}
                }
            }
            return Err(e);
        }
    };
    if let Some(k) = key {
        let row = KeyRow {
            key: k.key.clone(),
            request_hash: k.request_hash.clone(),
            status: i32::from(status),
            response: body.clone(),
            created_at: now.naive_utc(),
        };
        if let Err(row) = defer(row) {
            insert_now(conn, k, &row)?;
        }
    }
    Ok(Answer {
        status,
        body,
        replayed: false,
    })
}

/// A key and its answer, as stored.
#[derive(Debug, Clone)]
pub(crate) struct KeyRow {
    key: String,
    request_hash: String,
    status: i32,
    response: String,
    created_at: NaiveDateTime,
}

/// The stored columns of a key, in the order of [`pg_columns`].
macro_rules! key_columns {
    () => {
        "(key, request_hash, status, response, created_at)"
    };
}
pub(crate) use key_columns;

/// PostgreSQL: the rows column by column, each an array for `unnest`.
pub(crate) fn pg_columns(rows: &[KeyRow]) -> [PgParam<'_>; 5] {
    [
        PgParam::Texts(rows.iter().map(|r| r.key.as_str()).collect()),
        PgParam::Texts(rows.iter().map(|r| r.request_hash.as_str()).collect()),
        PgParam::Ints(rows.iter().map(|r| r.status).collect()),
        PgParam::Texts(rows.iter().map(|r| r.response.as_str()).collect()),
        PgParam::Timestamps(rows.iter().map(|r| r.created_at).collect()),
    ]
}

thread_local! {
    /// Keys of the group being committed by this (writer) thread, when its writes
    /// store their keys together at the end.
    static DEFERRED: RefCell<Option<Vec<KeyRow>>> = const { RefCell::new(None) };
}

/// Keeps `row` for the group's insert when the thread collects keys; gives it back
/// otherwise.
fn defer(row: KeyRow) -> Result<(), KeyRow> {
    DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(rows) => {
            rows.push(row);
            Ok(())
        }
        None => Err(row),
    })
}

/// From now until `take_deferred`, `run_once` on this thread leaves its key to the
/// caller instead of inserting it.
pub(crate) fn collect_keys() {
    DEFERRED.with(|d| *d.borrow_mut() = Some(Vec::new()));
}

/// The keys collected since `collect_keys`; stops collecting.
pub(crate) fn take_deferred() -> Vec<KeyRow> {
    DEFERRED.with(|d| d.borrow_mut().take().unwrap_or_default())
}

/// Stores the keys of a whole group: one statement on PostgreSQL, a few on SQLite. A
/// key seen before fails it (unique violation) and with it the group, which then runs
/// again write by write.
pub(crate) fn insert_all(conn: &mut DbConnection, rows: &[KeyRow]) -> QueryResult<()> {
    use crate::statements::{InsertKeys, PgStatement, row_chunks};
    if rows.is_empty() {
        return Ok(());
    }
    match conn {
        DbConnection::Postgresql(pg) => PgStatement {
            parts: &[
                concat!(
                    "INSERT INTO idempotency_keys ",
                    key_columns!(),
                    " SELECT * FROM unnest("
                ),
                ", ",
                ", ",
                ", ",
                ", ",
                ")",
            ],
            params: pg_columns(rows).into(),
        }
        .execute(pg)
        .map(drop),
        DbConnection::Sqlite(lite) => {
            let keys: Vec<InsertKey> = rows.iter().map(KeyRow::insert).collect();
            for chunk in row_chunks(keys.len(), KEYS_PER_STATEMENT) {
                InsertKeys(&keys[chunk]).execute(lite)?;
            }
            Ok(())
        }
    }
}

/// SQLite: keys per insert statement (five parameters each).
const KEYS_PER_STATEMENT: usize = 64;

impl KeyRow {
    fn insert(&self) -> InsertKey<'_> {
        InsertKey {
            key: &self.key,
            request_hash: &self.request_hash,
            status: self.status,
            response: &self.response,
            created_at: self.created_at,
        }
    }
}

/// Stores one key now; a collision marks the key to be looked up on the next attempt.
fn insert_now(
    conn: &mut DbConnection,
    k: &mut IdempotencyKey,
    row: &KeyRow,
) -> Result<(), StoreError> {
    let inserted = match conn {
        DbConnection::Sqlite(lite) => row.insert().execute(lite),
        DbConnection::Postgresql(_) => diesel::insert_into(idempotency_keys::table)
            .values((
                idempotency_keys::key.eq(&row.key),
                idempotency_keys::request_hash.eq(&row.request_hash),
                idempotency_keys::status.eq(row.status),
                idempotency_keys::response.eq(&row.response),
                idempotency_keys::created_at.eq(row.created_at),
            ))
            .execute(conn),
    };
    if let Err(e) = inserted {
        let collided = matches!(
            e,
            diesel::result::Error::DatabaseError(
                diesel::result::DatabaseErrorKind::UniqueViolation,
                _
            )
        );
        k.look_first |= collided;
        return Err(e.into());
    }
    Ok(())
}
