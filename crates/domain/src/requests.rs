//! A unit asking for stock (FHIR SupplyRequest in spirit): lines of item and quantity, an
//! optional date it is needed by, an urgent flag and a reason. A request is open until a
//! delivery plan takes it up, delivered when that plan's delivery is received, or cancelled.

use crate::commands::MAX_LINES;
use crate::stock::MAX_LINE_QUANTITY;
use crate::validation::Violations;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RequestStatus {
    /// Waiting for a delivery plan.
    Open,
    /// Taken up by a delivery plan that is not yet received.
    Planned,
    /// The plan that took it up was received.
    Delivered,
    Cancelled,
}

crate::text_enum!(RequestStatus {
    Open = "open",
    Planned = "planned",
    Delivered = "delivered",
    Cancelled = "cancelled",
});

impl RequestStatus {
    /// Only a request nobody has planned for yet can be cancelled by its unit.
    pub fn can_cancel(self) -> bool {
        self == RequestStatus::Open
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RequestLine {
    /// Item SKU.
    pub item: String,
    /// Base units wanted, at least 1.
    pub quantity: i64,
}

/// What a unit asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct NewSupplyRequest {
    /// Code of the unit asking.
    pub site: String,
    /// Who asks (free text).
    pub requested_by: String,
    #[serde(default)]
    pub needed_by: Option<NaiveDate>,
    #[serde(default)]
    pub urgent: bool,
    #[serde(default)]
    pub reason: Option<String>,
    pub lines: Vec<RequestLine>,
}

/// A request as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SupplyRequest {
    pub id: i64,
    pub site: String,
    pub status: RequestStatus,
    pub requested_by: String,
    pub needed_by: Option<NaiveDate>,
    pub urgent: bool,
    pub reason: Option<String>,
    pub lines: Vec<RequestLine>,
    /// The delivery plan that took it up.
    pub plan_id: Option<i64>,
    pub token_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl NewSupplyRequest {
    pub fn validate(&self, today: NaiveDate) -> Result<(), Violations> {
        let mut v = Violations::default();
        v.text("site", &self.site, 32);
        v.text("requested_by", &self.requested_by, 100);
        if let Some(r) = &self.reason {
            v.text("reason", r, 500);
        }
        if let Some(d) = self.needed_by
            && d < today
        {
            v.add("needed_by", "lies in the past");
        }
        if self.lines.is_empty() {
            v.add("lines", "must hold at least one line");
        } else if self.lines.len() > MAX_LINES {
            v.add("lines", format!("must hold at most {MAX_LINES} lines"));
        }
        for (i, l) in self.lines.iter().enumerate() {
            v.text(&format!("lines[{i}].item"), &l.item, 64);
            if !(1..=MAX_LINE_QUANTITY).contains(&l.quantity) {
                v.add(
                    format!("lines[{i}].quantity"),
                    format!("must be between 1 and {MAX_LINE_QUANTITY}"),
                );
            }
            if self.lines[..i]
                .iter()
                .any(|p| p.item.trim() == l.item.trim())
            {
                v.add(format!("lines[{i}].item"), "names the same item twice");
            }
        }
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_and_a_past_date_are_named() {
        let today = NaiveDate::from_ymd_opt(2026, 3, 12).unwrap();
        let r = NewSupplyRequest {
            site: "NH-01".into(),
            requested_by: "Kari".into(),
            needed_by: Some(NaiveDate::from_ymd_opt(2026, 3, 11).unwrap()),
            urgent: true,
            reason: None,
            lines: vec![
                RequestLine {
                    item: "FFP2".into(),
                    quantity: 0,
                },
                RequestLine {
                    item: "FFP2".into(),
                    quantity: 5,
                },
            ],
        };
        let fields: Vec<String> = r
            .validate(today)
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["needed_by", "lines[0].quantity", "lines[1].item"]);
    }

    #[test]
    fn only_open_requests_can_be_cancelled() {
        assert!(RequestStatus::Open.can_cancel());
        assert!(!RequestStatus::Planned.can_cancel());
        assert!(!RequestStatus::Delivered.can_cancel());
    }
}
