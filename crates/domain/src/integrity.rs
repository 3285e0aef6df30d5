//! The invariants of a stock ledger, which every state of the database must keep:
//! a balance equals the sum of its lot's movements, no balance is negative, and a
//! transfer's two halves agree: what left the depot equals what was shipped, and what
//! the unit took in plus what went back equals what the receipt accepted and returned.
//! A checker (`ppe check`) loads the totals; the rules are here.

use crate::ledger::TransferStatus;
use std::fmt;

/// A transfer's totals, in base units, as the ledger and its lines record them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TransferTotals {
    /// Sum of the lines' quantities.
    pub shipped: i64,
    /// Taken out of the depot (`transfer_out` movements, as a positive number).
    pub taken_out: i64,
    /// Put into the unit (`transfer_in`).
    pub taken_in: i64,
    /// Put back into the depot (`transfer_return`).
    pub returned: i64,
    /// Sum of the lines' accepted quantities (the receipt).
    pub accepted: i64,
    /// Sum of the shortfalls of lines whose rest the driver took back.
    pub sent_back: i64,
}

/// One broken invariant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Violation {
    BalanceDiffers {
        site: String,
        item: String,
        lot: String,
        balance: i64,
        ledger: i64,
    },
    NegativeBalance {
        site: String,
        item: String,
        lot: String,
        balance: i64,
    },
    TransferHalves {
        transfer: i64,
        status: TransferStatus,
        why: &'static str,
        totals: TransferTotals,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lot = |l: &str| {
            if l.is_empty() {
                String::new()
            } else {
                format!(" lot {l}")
            }
        };
        match self {
            Violation::BalanceDiffers {
                site,
                item,
                lot: l,
                balance,
                ledger,
            } => write!(
                f,
                "{site} {item}{}: balance {balance}, movements sum to {ledger}",
                lot(l)
            ),
            Violation::NegativeBalance {
                site,
                item,
                lot: l,
                balance,
            } => write!(f, "{site} {item}{}: negative balance {balance}", lot(l)),
            Violation::TransferHalves {
                transfer,
                status,
                why,
                totals,
            } => write!(
                f,
                "transfer {transfer} ({}): {why} ({totals:?})",
                status.as_str()
            ),
        }
    }
}

/// Checks a transfer's two halves; the reason when they disagree.
pub fn transfer_halves(status: TransferStatus, t: &TransferTotals) -> Result<(), &'static str> {
    if t.taken_out != t.shipped {
        return Err("taken out of the depot differs from what was shipped");
    }
    match status {
        TransferStatus::Dispatched if t.taken_in != 0 || t.returned != 0 => {
            Err("in transit, yet stock arrived or went back")
        }
        TransferStatus::Cancelled if t.taken_in != 0 || t.returned != t.shipped => {
            Err("cancelled, yet not all of it went back to the depot")
        }
        TransferStatus::Received | TransferStatus::ReceivedWithDiscrepancy
            if t.taken_in != t.accepted =>
        {
            Err("taken in at the unit differs from what the receipt accepted")
        }
        TransferStatus::Received | TransferStatus::ReceivedWithDiscrepancy
            if t.returned != t.sent_back || t.accepted + t.sent_back > t.shipped =>
        {
            Err("returned to the depot differs from what the receipt sent back")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(shipped: i64) -> TransferTotals {
        TransferTotals {
            shipped,
            taken_out: shipped,
            ..TransferTotals::default()
        }
    }

    #[test]
    fn a_dispatched_transfer_has_only_its_outgoing_half() {
        assert_eq!(
            transfer_halves(TransferStatus::Dispatched, &totals(10)),
            Ok(())
        );
        let short = TransferTotals {
            taken_out: 9,
            ..totals(10)
        };
        assert!(transfer_halves(TransferStatus::Dispatched, &short).is_err());
        let arrived = TransferTotals {
            taken_in: 10,
            ..totals(10)
        };
        assert!(transfer_halves(TransferStatus::Dispatched, &arrived).is_err());
    }

    #[test]
    fn a_receipt_accounts_for_every_unit_shipped() {
        // 10 shipped: 7 accepted, 2 sent back, 1 lost in transit.
        let t = TransferTotals {
            taken_in: 7,
            returned: 2,
            accepted: 7,
            sent_back: 2,
            ..totals(10)
        };
        assert_eq!(
            transfer_halves(TransferStatus::ReceivedWithDiscrepancy, &t),
            Ok(())
        );
        let doubled = TransferTotals { taken_in: 14, ..t };
        assert!(transfer_halves(TransferStatus::Received, &doubled).is_err());
        let lost_return = TransferTotals { returned: 0, ..t };
        assert!(transfer_halves(TransferStatus::Received, &lost_return).is_err());
    }

    #[test]
    fn a_cancelled_transfer_went_back_whole() {
        let back = TransferTotals {
            returned: 10,
            ..totals(10)
        };
        assert_eq!(transfer_halves(TransferStatus::Cancelled, &back), Ok(()));
        assert!(transfer_halves(TransferStatus::Cancelled, &totals(10)).is_err());
    }
}
