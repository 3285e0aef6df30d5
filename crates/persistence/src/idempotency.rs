//! Idempotent writes: a client-chosen key makes a retry return the first answer and
//! write nothing new. The key is stored in the same transaction as the movements, so
//! either both exist or neither does. Only successful answers are remembered: a
//! refused request may be retried with the same key once the refusal no longer holds.
//!
//! An answer that is nothing but the movements a write recorded is kept by reference:
//! the key holds the movements' ids, and a replay reads them back from the ledger,
//! which never changes them, and renders them as the first answer was rendered. Every
//! other answer is kept as its body.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::schema::idempotency_keys;
use crate::statements::{InsertKey, PgParam, StoredTime};
use chrono::{DateTime, NaiveDateTime, Utc};
use diesel::prelude::*;
use ppe_domain::ledger::Recorded;
use serde::Serialize;
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

/// What a keyed write answers, and how its answer is kept for replays.
pub trait Replayable: Serialize {
    /// The ids of the movements this answer consists of, when it is exactly
    /// `Recorded { movements, transfer: None }`: then the ids are kept instead of the
    /// body. `None` keeps the body.
    fn movement_ids(&self) -> Option<Vec<i64>> {
        None
    }
}

impl Replayable for Recorded {
    fn movement_ids(&self) -> Option<Vec<i64>> {
        // A transfer's status moves on after the write: such an answer keeps its body.
        self.transfer
            .is_none()
            .then(|| self.movements.iter().map(|m| m.id).collect())
    }
}

// Answers kept as their body: a plan and a request change after the write, an import's
// summary is more than its movements, and a dispatch answers a plan.
impl Replayable for ppe_domain::delivery::DeliveryPlan {}
impl Replayable for ppe_domain::requests::SupplyRequest {}
impl Replayable for ppe_domain::import::CountImportSummary {}
impl Replayable for serde_json::Value {}

/// An answer ready to send: status and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer<R> {
    pub status: u16,
    pub body: Body<R>,
    /// True when this is the stored answer of an earlier request.
    pub replayed: bool,
}

/// An answer's body: the value a write returned, left to the caller to render (off the
/// writer), or JSON already rendered (a replay, or a body that had to be stored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body<R> {
    Value(R),
    Json(String),
}

impl<R: Serialize> Answer<R> {
    /// The body as JSON.
    pub fn json(self) -> Result<String, StoreError> {
        match self.body {
            Body::Json(s) => Ok(s),
            Body::Value(v) => encode(&v),
        }
    }
}

fn encode<R: Serialize>(v: &R) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Encode(e.to_string()))
}

/// How a key's answer is stored: its body, or the ids of its movements (see
/// [`Replayable`]), written as decimal numbers joined by commas.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kept {
    Body(String),
    Movements(String),
}

impl Kept {
    fn movements(ids: &[i64]) -> Kept {
        Kept::Movements(ids.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
    }

    fn from_columns(response: Option<String>, movement_ids: Option<String>) -> Option<Kept> {
        match (response, movement_ids) {
            (Some(body), None) => Some(Kept::Body(body)),
            (None, Some(ids)) => Some(Kept::Movements(ids)),
            _ => None,
        }
    }

    fn response(&self) -> Option<&str> {
        match self {
            Kept::Body(b) => Some(b),
            Kept::Movements(_) => None,
        }
    }

    fn movement_ids(&self) -> Option<&str> {
        match self {
            Kept::Body(_) => None,
            Kept::Movements(ids) => Some(ids),
        }
    }

    /// The answer as first sent.
    fn render(self, conn: &mut DbConnection) -> Result<String, StoreError> {
        match self {
            Kept::Body(body) => Ok(body),
            Kept::Movements(ids) => {
                let ids = ids
                    .split(',')
                    .filter(|s| !s.is_empty())
                    .map(str::parse::<i64>)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| StoreError::Encode(format!("stored movement ids: {e}")))?;
                let movements = crate::reads::movements_by_ids(conn, &ids)?;
                encode(&Recorded {
                    movements,
                    transfer: None,
                })
            }
        }
    }
}

/// The stored answer under `k`, if any; a mismatch when it came with another request.
fn stored<R>(conn: &mut DbConnection, k: &IdempotencyKey) -> Result<Option<Answer<R>>, StoreError> {
    let seen = idempotency_keys::table
        .find(&k.key)
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::response,
            idempotency_keys::movement_ids,
        ))
        // By primary key, so no LIMIT: SQLite re-prepares a statement whenever a bound
        // LIMIT is bound again.
        .get_result::<(String, i32, Option<String>, Option<String>)>(conn)
        .optional()?;
    match seen {
        None => Ok(None),
        Some((hash, ..)) if hash != k.request_hash => Err(StoreError::IdempotencyMismatch),
        Some((_, status, response, movement_ids)) => {
            let kept = Kept::from_columns(response, movement_ids)
                .ok_or_else(|| StoreError::Encode(format!("key {:?} keeps no answer", k.key)))?;
            Ok(Some(Answer {
                status: status as u16,
                body: Body::Json(kept.render(conn)?),
                replayed: true,
            }))
        }
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
pub fn run_once<R: Replayable>(
    conn: &mut DbConnection,
    key: Option<&mut IdempotencyKey>,
    now: DateTime<Utc>,
    write: impl FnOnce(&mut DbConnection) -> Result<(u16, R), StoreError>,
) -> Result<Answer<R>, StoreError> {
    if let Some(k) = key.as_deref()
        && k.look_first
        && let Some(a) = stored(conn, k)?
    {
        return Ok(a);
    }
    let (status, value) = match write(conn) {
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
    let Some(k) = key else {
        return Ok(Answer {
            status,
            body: Body::Value(value),
            replayed: false,
        });
    };
    let (kept, body) = match value.movement_ids() {
        Some(ids) => (Kept::movements(&ids), Body::Value(value)),
        None => {
            let json = encode(&value)?;
            (Kept::Body(json.clone()), Body::Json(json))
        }
    };
    let row = KeyRow {
        key: k.key.clone(),
        request_hash: k.request_hash.clone(),
        status: i32::from(status),
        kept,
        created_at: now.naive_utc(),
    };
    if let Err(row) = defer(row) {
        insert_now(conn, k, &row)?;
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
    kept: Kept,
    created_at: NaiveDateTime,
}

/// The stored columns of a key, in the order of [`pg_columns`].
macro_rules! key_columns {
    () => {
        "(key, request_hash, status, response, movement_ids, created_at)"
    };
}
pub(crate) use key_columns;

/// PostgreSQL: the rows column by column, each an array for `unnest`.
pub(crate) fn pg_columns(rows: &[KeyRow]) -> [PgParam<'_>; 6] {
    [
        PgParam::Texts(rows.iter().map(|r| r.key.as_str()).collect()),
        PgParam::Texts(rows.iter().map(|r| r.request_hash.as_str()).collect()),
        PgParam::Ints(rows.iter().map(|r| r.status).collect()),
        PgParam::NullableTexts(rows.iter().map(|r| r.kept.response()).collect()),
        PgParam::NullableTexts(rows.iter().map(|r| r.kept.movement_ids()).collect()),
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

/// SQLite: keys per insert statement (six parameters each).
const KEYS_PER_STATEMENT: usize = 64;

impl KeyRow {
    fn insert(&self) -> InsertKey<'_> {
        InsertKey {
            key: &self.key,
            request_hash: &self.request_hash,
            status: self.status,
            response: self.kept.response(),
            movement_ids: self.kept.movement_ids(),
            created_at: StoredTime(self.created_at),
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
                idempotency_keys::response.eq(row.kept.response()),
                idempotency_keys::movement_ids.eq(row.kept.movement_ids()),
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
