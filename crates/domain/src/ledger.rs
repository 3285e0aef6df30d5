//! What the ledger shows: movements, balances and transfers as clients read them.

use crate::delivery::{Disposition, Outcome};
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
    #[serde(serialize_with = "crate::timestamp::serialize_rfc3339")]
    pub occurred_at: DateTime<Utc>,
    /// When the server recorded it (UTC).
    #[serde(serialize_with = "crate::timestamp::serialize_rfc3339")]
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
    /// The unit confirmed receipt of everything shipped.
    Received,
    /// The unit confirmed receipt, and some lines arrived short, damaged or refused.
    ReceivedWithDiscrepancy,
    /// It never left: its stock went back to the depot.
    Cancelled,
}

crate::text_enum!(TransferStatus {
    Dispatched = "dispatched",
    Received = "received",
    ReceivedWithDiscrepancy = "received_with_discrepancy",
    Cancelled = "cancelled",
});

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TransferLine {
    /// Names the line in a receipt with discrepancies.
    pub line: i32,
    pub item: String,
    pub lot: String,
    pub expires_on: Option<NaiveDate>,
    /// Base units shipped.
    pub quantity: i64,
    /// Base units the unit accepted, once received.
    pub received: Option<i64>,
    /// Why fewer were accepted.
    pub outcome: Option<Outcome>,
    /// Where the rest went: back to the depot or lost in transit.
    pub disposition: Option<Disposition>,
    pub note: Option<String>,
}

/// A line that did not arrive whole, for the discrepancy report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Discrepancy {
    pub transfer_id: i64,
    pub plan_id: Option<i64>,
    pub from_site: String,
    pub to_site: String,
    pub line: i32,
    pub item: String,
    pub lot: String,
    pub shipped: i64,
    pub received: i64,
    /// shipped − received.
    pub missing: i64,
    pub outcome: Outcome,
    pub disposition: Disposition,
    pub note: Option<String>,
    pub received_at: Option<DateTime<Utc>>,
    pub received_by: Option<String>,
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
    /// The delivery plan it was dispatched under, and its stop on the plan's route.
    pub plan_id: Option<i64>,
    pub plan_stop: Option<i32>,
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
