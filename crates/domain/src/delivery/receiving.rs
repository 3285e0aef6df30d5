//! Proof of delivery with discrepancies (OpenLMIS proof of delivery, FHIR SupplyDelivery):
//! per shipped line what was accepted, and for the rest why (short, damaged, refused, …) and
//! where it went (back to the depot, or written off as lost in transit). Nothing shipped
//! is silently dropped: every line's shipped quantity is accepted + returned + lost.

use crate::validation::Violations;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Fewer arrived than were shipped.
    Short,
    Damaged,
    /// The unit would not take it.
    Refused,
    Expired,
    WrongItem,
}

crate::text_enum!(Outcome {
    Short = "short",
    Damaged = "damaged",
    Refused = "refused",
    Expired = "expired",
    WrongItem = "wrong_item",
});

/// Where stock that was shipped but not accepted went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Disposition {
    /// The driver took it back: it is on hand at the depot again.
    Returned,
    /// Written off: lost, stolen or destroyed in transit.
    Lost,
}

crate::text_enum!(Disposition { Returned = "returned", Lost = "lost" });

/// The receiver's account of one shipped line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceivedLine {
    /// The transfer line's `line_no`.
    pub line: i32,
    /// Base units accepted (0 … shipped).
    pub received: i64,
    /// Why fewer were accepted; required when `received` is below what was shipped.
    #[serde(default)]
    pub outcome: Option<Outcome>,
    /// Where the rest went; required when `received` is below what was shipped.
    #[serde(default)]
    pub disposition: Option<Disposition>,
    #[serde(default)]
    pub note: Option<String>,
}

/// A line as it was shipped.
#[derive(Debug, Clone, PartialEq)]
pub struct ShippedLine {
    pub line: i32,
    pub quantity: i64,
}

/// What happens to one shipped line on receipt.
#[derive(Debug, Clone, PartialEq)]
pub struct LineOutcome {
    pub line: i32,
    pub accepted: i64,
    /// Shipped − accepted, with why and where; absent when everything arrived.
    pub missing: Option<(i64, Outcome, Disposition)>,
    pub note: Option<String>,
}

/// Why a receiver's lines cannot be settled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unsettled {
    /// The request is malformed on its own (a line named twice, a bad note).
    Invalid(Violations),
    /// The lines contradict what was shipped.
    Contradicts(Violations),
}

impl Unsettled {
    pub fn violations(&self) -> &Violations {
        match self {
            Unsettled::Invalid(v) | Unsettled::Contradicts(v) => v,
        }
    }
}

/// Checks a receiver's lines against what was shipped; lines not named arrived whole.
/// `field` is the JSON path of the lines in the request, for the errors.
pub fn settle(
    shipped: &[ShippedLine],
    received: &[ReceivedLine],
    field: &str,
) -> Result<Vec<LineOutcome>, Unsettled> {
    let mut v = Violations::default();
    // What contradicts the shipment itself (a line it does not have, more than it
    // carried, a shortfall without its reason) is told apart from a malformed request.
    let mut c = Violations::default();
    for (i, r) in received.iter().enumerate() {
        let at = |f: &str| format!("{field}[{i}].{f}");
        if received[..i].iter().any(|p| p.line == r.line) {
            v.add(at("line"), "names the same line twice");
        }
        if let Some(n) = &r.note {
            v.text(&at("note"), n, 500);
        }
        let Some(s) = shipped.iter().find(|s| s.line == r.line) else {
            c.add(at("line"), "is not a line of this transfer");
            continue;
        };
        if !(0..=s.quantity).contains(&r.received) {
            c.add(
                at("received"),
                format!("must be between 0 and the {} shipped", s.quantity),
            );
        } else if r.received < s.quantity {
            if r.outcome.is_none() {
                c.add(at("outcome"), "is required when less than shipped arrived");
            }
            if r.disposition.is_none() {
                c.add(
                    at("disposition"),
                    "is required when less than shipped arrived: returned or lost",
                );
            }
        }
    }
    v.finish().map_err(Unsettled::Invalid)?;
    c.finish().map_err(Unsettled::Contradicts)?;
    Ok(shipped
        .iter()
        .map(|s| match received.iter().find(|r| r.line == s.line) {
            None => LineOutcome {
                line: s.line,
                accepted: s.quantity,
                missing: None,
                note: None,
            },
            Some(r) => LineOutcome {
                line: s.line,
                accepted: r.received,
                missing: match (r.outcome, r.disposition) {
                    (Some(o), Some(d)) if r.received < s.quantity => {
                        Some((s.quantity - r.received, o, d))
                    }
                    _ => None,
                },
                note: r.note.clone(),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shipped() -> Vec<ShippedLine> {
        vec![
            ShippedLine {
                line: 0,
                quantity: 100,
            },
            ShippedLine {
                line: 1,
                quantity: 40,
            },
        ]
    }

    #[test]
    fn every_shipped_unit_is_accounted_for() {
        let got = settle(
            &shipped(),
            &[ReceivedLine {
                line: 1,
                received: 30,
                outcome: Some(Outcome::Damaged),
                disposition: Some(Disposition::Returned),
                note: None,
            }],
            "lines",
        )
        .unwrap();
        assert_eq!(got[0].accepted, 100);
        assert_eq!(got[0].missing, None);
        assert_eq!(
            got[1].missing,
            Some((10, Outcome::Damaged, Disposition::Returned))
        );
        for (o, s) in got.iter().zip(shipped()) {
            assert_eq!(o.accepted + o.missing.map_or(0, |m| m.0), s.quantity);
        }
    }

    #[test]
    fn a_short_line_needs_its_reason_and_where_it_went() {
        let err = settle(
            &shipped(),
            &[
                ReceivedLine {
                    line: 0,
                    received: 90,
                    outcome: None,
                    disposition: None,
                    note: None,
                },
                ReceivedLine {
                    line: 1,
                    received: 41,
                    outcome: None,
                    disposition: None,
                    note: None,
                },
                ReceivedLine {
                    line: 9,
                    received: 1,
                    outcome: None,
                    disposition: None,
                    note: None,
                },
            ],
            "lines",
        )
        .unwrap_err();
        assert!(matches!(err, Unsettled::Contradicts(_)));
        let fields: Vec<String> = err.violations().0.iter().map(|e| e.field.clone()).collect();
        assert_eq!(
            fields,
            [
                "lines[0].outcome",
                "lines[0].disposition",
                "lines[1].received",
                "lines[2].line"
            ]
        );
    }
}
