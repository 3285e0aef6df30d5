//! The audit trail of edits outside the ledger (items, sites, vehicles): who changed what,
//! with the record before and after, written in the same transaction as the change.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ledger::Stamp;
use crate::schema::audit_events;
use diesel::prelude::*;
use serde::Serialize;

/// Records one change of `entity` `key`; `before` is absent for a creation.
pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConnection,
    entity: &str,
    key: &str,
    before: B,
    after: A,
    now: &Stamp,
) -> Result<(), StoreError> {
    let encode = |v: serde_json::Result<String>| v.map_err(|e| StoreError::Encode(e.to_string()));
    let before = encode(serde_json::to_string(&before))?;
    let action = if before == "null" { "create" } else { "update" };
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::entity.eq(entity),
            audit_events::entity_key.eq(key),
            audit_events::action.eq(action),
            audit_events::before.eq((before != "null").then_some(before)),
            audit_events::after.eq(encode(serde_json::to_string(&after))?),
            audit_events::token_id.eq(now.by.as_ref().map(|t| t.id)),
            audit_events::token_name.eq(now.by.as_ref().map(|t| t.name.as_str())),
            audit_events::recorded_at.eq(now.at.naive_utc()),
        ))
        .execute(conn)?;
    Ok(())
}

/// One audit entry as clients read it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub id: i64,
    pub entity: String,
    pub key: String,
    pub action: String,
    pub before: Option<serde_json::Value>,
    pub after: serde_json::Value,
    pub token_name: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// The changes of one record, oldest first.
pub fn history(
    conn: &mut DbConnection,
    entity: &str,
    key: &str,
) -> Result<Vec<AuditEvent>, StoreError> {
    type Row = (
        i64,
        String,
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        chrono::NaiveDateTime,
    );
    let rows = audit_events::table
        .filter(audit_events::entity.eq(entity))
        .filter(audit_events::entity_key.eq(key))
        .order(audit_events::id)
        .select((
            audit_events::id,
            audit_events::entity,
            audit_events::entity_key,
            audit_events::action,
            audit_events::before,
            audit_events::after,
            audit_events::token_name,
            audit_events::recorded_at,
        ))
        .load::<Row>(conn)?;
    let json = |s: &str| serde_json::from_str(s).unwrap_or(serde_json::Value::Null);
    Ok(rows
        .into_iter()
        .map(
            |(id, entity, key, action, before, after, token_name, at)| AuditEvent {
                id,
                entity,
                key,
                action,
                before: before.as_deref().map(json),
                after: json(&after),
                token_name,
                recorded_at: at.and_utc(),
            },
        )
        .collect())
}
