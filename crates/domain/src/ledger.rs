//! What the ledger shows: movements, balances and transfers as clients read them.

use crate::stock::MovementKind;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// One immutable ledger entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Movement {
    pub id: i64,
    pub kind: MovementKind,
    /// Site code.
    pub site: String,
    /// Item SKU.
    pub item: String,
    /// Empty when no lot was recorded.
    pub lot: String,
    pub expires_on: Option<NaiveDate>,
    /// Signed change of the site's balance, in base units.
    pub quantity: i64,
    /// For count adjustments: the quantity the count reported.
    pub counted: Option<i64>,
    /// For discards: why; for receipts: the supplier reference.
    pub reason: Option<String>,
    pub transfer_id: Option<i64>,
    /// Free text: the person the client names.
    pub reported_by: String,
    /// The API token that recorded it (absent for movements written outside the API).
    pub token_id: Option<i64>,
    /// The token's name at the time it recorded the movement.
    pub token_name: Option<String>,
    /// When it happened, as the client said (UTC).
    pub occurred_at: DateTime<Utc>,
    /// When the server recorded it (UTC).
    pub recorded_at: DateTime<Utc>,
}

/// On-hand stock of one item (one lot) at one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Balance {
    pub site: String,
    pub item: String,
    pub lot: String,
    pub expires_on: Option<NaiveDate>,
    pub quantity: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    /// Left the warehouse; stock is in transit.
    Dispatched,
    /// The unit confirmed receipt.
    Received,
}

crate::text_enum!(TransferStatus { Dispatched = "dispatched", Received = "received" });

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferLine {
    pub item: String,
    pub lot: String,
    pub expires_on: Option<NaiveDate>,
    pub quantity: i64,
}

/// A delivery from a warehouse to a unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Transfer {
    pub id: i64,
    pub from_site: String,
    pub to_site: String,
    pub status: TransferStatus,
    pub dispatched_at: DateTime<Utc>,
    pub dispatched_by: String,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
    /// The API token that dispatched it, and its name then.
    pub dispatched_token_id: Option<i64>,
    pub dispatched_token_name: Option<String>,
    /// The API token that confirmed receipt, and its name then.
    pub received_token_id: Option<i64>,
    pub received_token_name: Option<String>,
    pub lines: Vec<TransferLine>,
}

/// The answer to a write: the movements it recorded (and the transfer it made or closed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Recorded {
    pub movements: Vec<Movement>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Transfer>,
}
