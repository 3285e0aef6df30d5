//! What clients ask the ledger to record: stock reports (counts), receipts, issues
//! (use), discards and transfers. Each carries many lines and is applied atomically.
//! Sites and items are named by code and SKU, the identifiers people use.

use crate::delivery::ReceivedLine;
use crate::stock::MAX_LINE_QUANTITY;
use crate::validation::Violations;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Most lines one request may carry (a whole unit's catalogue fits many times over).
pub const MAX_LINES: usize = 500;
/// How far in the future `occurred_at` may lie: phone clocks drift, they do not foresee.
pub const MAX_CLOCK_SKEW_MINUTES: i64 = 10;
/// How far in the past `occurred_at` may lie unless an administrator marks the write as
/// a historical import: a year of late paperwork and a margin. Older dates are typing
/// errors far more often than records, and each one widens every consumption series.
pub const DEFAULT_BACKDATE_LIMIT_DAYS: i64 = 400;

/// Refuses an `occurred_at` more than `limit_days` before `now`.
pub fn check_backdating(
    occurred_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
    limit_days: i64,
) -> Result<(), Violations> {
    match occurred_at {
        Some(t) if t < now - Duration::days(limit_days) => Err(Violations::single(
            "occurred_at",
            format!(
                "lies more than {limit_days} days in the past; an administrator records \
                 older history with `historical=true`"
            ),
        )),
        _ => Ok(()),
    }
}

/// A unit's stock report: what it holds now, per item (and lot). FHIR's
/// InventoryReport in snapshot mode. The ledger records the differences.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StockReport {
    /// Site code.
    pub site: String,
    /// When the count was made (UTC, ISO 8601). Defaults to when it is recorded.
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// Who counted (free text, e.g. a name or a role).
    pub reported_by: String,
    pub lines: Vec<CountLine>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CountLine {
    /// Item SKU.
    pub item: String,
    /// Quantity on hand in base units.
    pub counted: i64,
    /// A lot, when counted per lot; otherwise the count covers all lots of the item.
    #[serde(default)]
    pub lot: Option<String>,
}

/// Movements that add or remove a quantity at one site: receipts, issues, discards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct QuantityLine {
    /// Item SKU.
    pub item: String,
    /// Quantity in base units, at least 1.
    pub quantity: i64,
    /// The lot; when absent, stock is drawn first-expiry-first-out.
    #[serde(default)]
    pub lot: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiptLine {
    /// Item SKU.
    pub item: String,
    /// Quantity in base units, at least 1.
    pub quantity: i64,
    #[serde(default)]
    pub lot: Option<String>,
    #[serde(default)]
    pub expires_on: Option<NaiveDate>,
}

/// Stock arriving at a warehouse from a supplier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    /// Warehouse code.
    pub site: String,
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    pub reported_by: String,
    /// Supplier or delivery note reference.
    #[serde(default)]
    pub reference: Option<String>,
    pub lines: Vec<ReceiptLine>,
}

/// Stock used at a site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IssueReport {
    pub site: String,
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    pub reported_by: String,
    pub lines: Vec<QuantityLine>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum DiscardReason {
    Expired,
    Damaged,
    Contaminated,
    Recalled,
    Other,
}

crate::text_enum!(DiscardReason {
    Expired = "expired",
    Damaged = "damaged",
    Contaminated = "contaminated",
    Recalled = "recalled",
    Other = "other",
});

/// Stock thrown away.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Discard {
    pub site: String,
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    pub reported_by: String,
    pub reason: DiscardReason,
    pub lines: Vec<QuantityLine>,
}

/// A delivery leaving a warehouse for a unit; stock is in transit until received.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Dispatch {
    /// Warehouse code.
    pub from_site: String,
    /// Unit code.
    pub to_site: String,
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    pub reported_by: String,
    pub lines: Vec<QuantityLine>,
}

/// Proof of delivery: the unit confirms what it received of a dispatched transfer. Lines
/// not named arrived whole; a named line says what was accepted and, for the rest, why
/// and where it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReceiveTransfer {
    #[serde(default)]
    pub occurred_at: Option<DateTime<Utc>>,
    /// The receiver's name.
    pub reported_by: String,
    #[serde(default)]
    pub lines: Vec<ReceivedLine>,
}

/// A dispatched transfer that never left: its stock goes back to the depot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CancelTransfer {
    pub reported_by: String,
    pub reason: String,
}

impl CancelTransfer {
    pub fn validate(&self) -> Result<(), Violations> {
        let mut v = Violations::default();
        v.text("reported_by", &self.reported_by, 100);
        v.text("reason", &self.reason, 500);
        v.finish()
    }
}

fn check_header(
    v: &mut Violations,
    reported_by: &str,
    occurred_at: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) {
    v.text("reported_by", reported_by, 100);
    if let Some(t) = occurred_at
        && t > now + Duration::minutes(MAX_CLOCK_SKEW_MINUTES)
    {
        v.add("occurred_at", "lies in the future");
    }
}

fn check_lines<T>(v: &mut Violations, lines: &[T], each: impl Fn(&mut Violations, usize, &T)) {
    if lines.is_empty() {
        v.add("lines", "must hold at least one line");
    } else if lines.len() > MAX_LINES {
        v.add("lines", format!("must hold at most {MAX_LINES} lines"));
    }
    for (i, l) in lines.iter().enumerate() {
        each(v, i, l);
    }
}

fn check_item_lot(v: &mut Violations, i: usize, item: &str, lot: Option<&str>) {
    v.text(&format!("lines[{i}].item"), item, 64);
    if let Some(l) = lot {
        v.text(&format!("lines[{i}].lot"), l, 64);
    }
}

fn check_quantity(v: &mut Violations, i: usize, field: &str, q: i64, min: i64) {
    if !(min..=MAX_LINE_QUANTITY).contains(&q) {
        v.add(
            format!("lines[{i}].{field}"),
            format!("must be between {min} and {MAX_LINE_QUANTITY}"),
        );
    }
}

fn check_quantity_lines(v: &mut Violations, lines: &[QuantityLine]) {
    check_lines(v, lines, |v, i, l| {
        check_item_lot(v, i, &l.item, l.lot.as_deref());
        check_quantity(v, i, "quantity", l.quantity, 1);
    });
}

impl StockReport {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), Violations> {
        let mut v = Violations::default();
        v.text("site", &self.site, 32);
        check_header(&mut v, &self.reported_by, self.occurred_at, now);
        check_lines(&mut v, &self.lines, |v, i, l| {
            check_item_lot(v, i, &l.item, l.lot.as_deref());
            check_quantity(v, i, "counted", l.counted, 0);
        });
        // Two counts of the same stock in one report contradict each other.
        for (i, l) in self.lines.iter().enumerate() {
            if self.lines[..i]
                .iter()
                .any(|p| p.item == l.item && p.lot == l.lot)
            {
                v.add(format!("lines[{i}]"), "counts the same item and lot twice");
            }
        }
        v.finish()
    }
}

impl Receipt {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), Violations> {
        let mut v = Violations::default();
        v.text("site", &self.site, 32);
        check_header(&mut v, &self.reported_by, self.occurred_at, now);
        if let Some(r) = &self.reference {
            v.text("reference", r, 100);
        }
        check_lines(&mut v, &self.lines, |v, i, l| {
            check_item_lot(v, i, &l.item, l.lot.as_deref());
            check_quantity(v, i, "quantity", l.quantity, 1);
            if l.expires_on.is_some() && l.lot.is_none() {
                v.add(format!("lines[{i}].lot"), "is required with an expiry date");
            }
        });
        v.finish()
    }
}

impl IssueReport {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), Violations> {
        let mut v = Violations::default();
        v.text("site", &self.site, 32);
        check_header(&mut v, &self.reported_by, self.occurred_at, now);
        check_quantity_lines(&mut v, &self.lines);
        v.finish()
    }
}

impl Discard {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), Violations> {
        let mut v = Violations::default();
        v.text("site", &self.site, 32);
        check_header(&mut v, &self.reported_by, self.occurred_at, now);
        check_quantity_lines(&mut v, &self.lines);
        v.finish()
    }
}

impl Dispatch {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), Violations> {
        let mut v = Violations::default();
        v.text("from_site", &self.from_site, 32);
        v.text("to_site", &self.to_site, 32);
        if self.from_site == self.to_site {
            v.add("to_site", "must differ from from_site");
        }
        check_header(&mut v, &self.reported_by, self.occurred_at, now);
        check_quantity_lines(&mut v, &self.lines);
        v.finish()
    }
}

impl ReceiveTransfer {
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), Violations> {
        let mut v = Violations::default();
        check_header(&mut v, &self.reported_by, self.occurred_at, now);
        if self.lines.len() > MAX_LINES {
            v.add("lines", format!("must hold at most {MAX_LINES} lines"));
        }
        v.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-03-12T18:00:00Z".parse().unwrap()
    }

    #[test]
    fn writes_may_be_back_dated_up_to_the_limit() {
        let day = Duration::days(1);
        assert!(check_backdating(None, now(), 400).is_ok());
        assert!(check_backdating(Some(now() - day * 400), now(), 400).is_ok());
        let err = check_backdating(Some(now() - day * 401), now(), 400).unwrap_err();
        assert_eq!(err.0[0].field, "occurred_at");
        assert!(check_backdating(Some(now() - day * 401), now(), 500).is_ok());
    }

    #[test]
    fn report_lines_are_checked_and_named() {
        let r = StockReport {
            site: "NH-01".into(),
            occurred_at: Some("2026-03-13T18:00:00Z".parse().unwrap()),
            reported_by: "Kari".into(),
            lines: vec![
                CountLine {
                    item: "FFP2".into(),
                    counted: -1,
                    lot: None,
                },
                CountLine {
                    item: "FFP2".into(),
                    counted: 3,
                    lot: None,
                },
            ],
        };
        let fields: Vec<String> = r
            .validate(now())
            .unwrap_err()
            .0
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["occurred_at", "lines[0].counted", "lines[1]"]);
    }

    #[test]
    fn empty_and_zero_quantity_lines_are_refused() {
        let mut i = IssueReport {
            site: "NH-01".into(),
            occurred_at: None,
            reported_by: "Kari".into(),
            lines: vec![],
        };
        assert_eq!(i.validate(now()).unwrap_err().0[0].field, "lines");
        i.lines.push(QuantityLine {
            item: "FFP2".into(),
            quantity: 0,
            lot: None,
        });
        assert_eq!(
            i.validate(now()).unwrap_err().0[0].field,
            "lines[0].quantity"
        );
        i.lines[0].quantity = 5;
        assert!(i.validate(now()).is_ok());
    }
}
