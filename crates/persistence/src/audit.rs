//! The audit trail of edits outside the ledger (items, sites, vehicles): who changed what,
//! with the record before and after, written in the same transaction as the change.

use crate::connection::DbConnection;
use crate::error::StoreError;
use crate::ledger::Stamp;
use crate::schema::audit_events;
use diesel::prelude::*;
use ppe_domain::audit::{AuditAction, AuditedEntity};
use serde::Serialize;

/// Records one change of `entity` `key`; `before` is absent for a creation.
pub fn record<B: Serialize, A: Serialize>(
    conn: &mut DbConnection,
    entity: AuditedEntity,
    key: &str,
    before: B,
    after: A,
    now: &Stamp,
) -> Result<(), StoreError> {
    let encode = |v: serde_json::Result<String>| v.map_err(|e| StoreError::Encode(e.to_string()));
    let before = encode(serde_json::to_string(&before))?;
    let action = if before == "null" {
        AuditAction::Create
    } else {
        AuditAction::Update
    };
    diesel::insert_into(audit_events::table)
        .values((
            audit_events::entity.eq(entity.as_str()),
            audit_events::entity_key.eq(key),
            audit_events::action.eq(action.as_str()),
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
    pub entity: AuditedEntity,
    pub key: String,
    pub action: AuditAction,
    pub before: Option<serde_json::Value>,
    pub after: serde_json::Value,
    pub token_name: Option<String>,
    pub recorded_at: chrono::DateTime<chrono::Utc>,
}

/// The changes of one record (or of every record of `entity`), newest first.
pub fn history(
    conn: &mut DbConnection,
    entity: AuditedEntity,
    key: Option<&str>,
    limit: i64,
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
    let mut q = audit_events::table
        .filter(audit_events::entity.eq(entity.as_str()))
        .order(audit_events::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(k) = key {
        q = q.filter(audit_events::entity_key.eq(k.trim().to_owned()));
    }
    let rows = q
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
    rows.into_iter()
        .map(|(id, entity, key, action, before, after, token_name, at)| {
            Ok(AuditEvent {
                id,
                entity: crate::catalogue::parse_text(&entity)?,
                key,
                action: crate::catalogue::parse_text(&action)?,
                before: before.as_deref().map(json),
                after: json(&after),
                token_name,
                recorded_at: at.and_utc(),
            })
        })
        .collect()
}
