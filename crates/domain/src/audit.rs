//! What the audit trail records: edits outside the ledger, of the records below.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditedEntity {
    Item,
    Site,
    Vehicle,
}

crate::text_enum!(AuditedEntity {
    Item = "item",
    Site = "site",
    Vehicle = "vehicle",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Update,
}

crate::text_enum!(AuditAction {
    Create = "create",
    Update = "update",
});
