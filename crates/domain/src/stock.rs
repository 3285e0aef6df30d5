//! Stock ledger rules. Movements are immutable; a balance is the sum of its movements.
//! `StockBook` holds the balances a command touches, applies the command's lines in
//! order and yields the movements to record, refusing anything that would take a
//! balance below zero. Lots are drawn first-expiry-first-out when a line names none.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MovementKind {
    /// Into a warehouse from a supplier.
    Receipt,
    /// Use at a site.
    Issue,
    /// The difference a stock count found against the balance.
    CountAdjustment,
    /// Out of a warehouse onto a vehicle.
    TransferOut,
    /// Into a unit when a delivery is received.
    TransferIn,
    /// Expired or damaged stock thrown away.
    Discard,
    /// Back into a warehouse: a delivery cancelled before it left, or stock its unit did not
    /// accept and the driver brought back.
    TransferReturn,
    /// Shipped to a unit and lost in transit (the receiver's account): records the end of
    /// the stock in transit at the unit, with no change to any balance.
    TransferLoss,
}

crate::text_enum!(MovementKind {
    Receipt = "receipt",
    Issue = "issue",
    CountAdjustment = "count_adjustment",
    TransferOut = "transfer_out",
    TransferIn = "transfer_in",
    Discard = "discard",
    TransferReturn = "transfer_return",
    TransferLoss = "transfer_loss",
});

/// Largest quantity one line may carry; keeps sums far from overflow.
pub const MAX_LINE_QUANTITY: i64 = 1_000_000_000;

/// Stock of one item at one site (database ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StockKey {
    pub site: i64,
    pub item: i64,
}

/// On-hand quantity of one lot. The empty lot is stock whose lot nobody recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LotBalance {
    pub lot: String,
    pub expires_on: Option<NaiveDate>,
    pub quantity: i64,
}

/// One movement to record: `delta` is signed, in base units, for the key's site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: StockKey,
    pub kind: MovementKind,
    pub lot: String,
    pub expires_on: Option<NaiveDate>,
    pub delta: i64,
    /// For count adjustments: the quantity the count reported.
    pub counted: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockError {
    /// Taking `requested` would leave a negative balance.
    Insufficient {
        key: StockKey,
        lot: Option<String>,
        balance: i64,
        requested: i64,
    },
}

#[derive(Debug, Default, Clone)]
pub struct StockBook {
    lots: BTreeMap<StockKey, Vec<LotBalance>>,
}

impl StockBook {
    pub fn new(balances: impl IntoIterator<Item = (StockKey, LotBalance)>) -> StockBook {
        let mut book = StockBook::default();
        for (k, b) in balances {
            book.lots.entry(k).or_default().push(b);
        }
        for lots in book.lots.values_mut() {
            lots.sort_by(fefo_order);
        }
        book
    }

    /// Total on hand of one item at one site, over its lots.
    pub fn on_hand(&self, key: StockKey) -> i64 {
        self.lots
            .get(&key)
            .map_or(0, |l| l.iter().map(|b| b.quantity).sum())
    }

    /// Every lot balance held (touched or loaded), for writing back.
    pub fn balances(&self) -> impl Iterator<Item = (StockKey, &LotBalance)> {
        self.lots
            .iter()
            .flat_map(|(k, v)| v.iter().map(move |b| (*k, b)))
    }

    fn lot_mut(
        &mut self,
        key: StockKey,
        lot: &str,
        expires_on: Option<NaiveDate>,
    ) -> &mut LotBalance {
        let lots = self.lots.entry(key).or_default();
        let i = match lots.iter().position(|b| b.lot == lot) {
            Some(i) => i,
            None => {
                lots.push(LotBalance {
                    lot: lot.to_owned(),
                    expires_on,
                    quantity: 0,
                });
                lots.sort_by(fefo_order);
                lots.iter().position(|b| b.lot == lot).unwrap_or(0)
            }
        };
        let b = &mut lots[i];
        if b.expires_on.is_none() {
            b.expires_on = expires_on;
        }
        b
    }

    /// Adds stock (receipt, transfer in). `quantity` must be positive.
    pub fn put(
        &mut self,
        key: StockKey,
        kind: MovementKind,
        lot: Option<&str>,
        expires_on: Option<NaiveDate>,
        quantity: i64,
    ) -> Vec<Entry> {
        let lot = lot.unwrap_or("");
        let b = self.lot_mut(key, lot, expires_on);
        b.quantity += quantity;
        vec![Entry {
            key,
            kind,
            lot: lot.to_owned(),
            expires_on: b.expires_on,
            delta: quantity,
            counted: None,
        }]
    }

    /// Removes stock (issue, transfer out, discard): from the named lot, or from the
    /// lots that expire first. Nothing changes when the balance is short.
    pub fn take(
        &mut self,
        key: StockKey,
        kind: MovementKind,
        lot: Option<&str>,
        quantity: i64,
    ) -> Result<Vec<Entry>, StockError> {
        let available = match lot {
            Some(l) => self
                .lots
                .get(&key)
                .and_then(|v| v.iter().find(|b| b.lot == l))
                .map_or(0, |b| b.quantity),
            None => self.on_hand(key),
        };
        if available < quantity {
            return Err(StockError::Insufficient {
                key,
                lot: lot.map(str::to_owned),
                balance: available,
                requested: quantity,
            });
        }
        Ok(self.draw(key, kind, lot, quantity, None))
    }

    /// Draws `quantity` (known to be available) lot by lot, first expiry first.
    fn draw(
        &mut self,
        key: StockKey,
        kind: MovementKind,
        lot: Option<&str>,
        mut quantity: i64,
        counted: Option<i64>,
    ) -> Vec<Entry> {
        let mut out = Vec::new();
        let Some(lots) = self.lots.get_mut(&key) else {
            return out;
        };
        for b in lots.iter_mut() {
            if quantity == 0 {
                break;
            }
            if lot.is_some_and(|l| l != b.lot) || b.quantity <= 0 {
                continue;
            }
            let n = quantity.min(b.quantity);
            b.quantity -= n;
            quantity -= n;
            out.push(Entry {
                key,
                kind,
                lot: b.lot.clone(),
                expires_on: b.expires_on,
                delta: -n,
                counted,
            });
        }
        out
    }

    /// A stock count: the site holds `counted` (of one lot, or of the item in all lots).
    /// Records the difference as adjustments; a count equal to the balance still yields
    /// one zero movement, because "counted and unchanged" is evidence of zero use.
    pub fn count(&mut self, key: StockKey, lot: Option<&str>, counted: i64) -> Vec<Entry> {
        let current = match lot {
            Some(l) => self
                .lots
                .get(&key)
                .and_then(|v| v.iter().find(|b| b.lot == l))
                .map_or(0, |b| b.quantity),
            None => self.on_hand(key),
        };
        let diff = counted - current;
        let kind = MovementKind::CountAdjustment;
        if diff < 0 {
            return self.draw(key, kind, lot, -diff, Some(counted));
        }
        let lot_name = lot.unwrap_or("");
        let b = self.lot_mut(key, lot_name, None);
        b.quantity += diff;
        vec![Entry {
            key,
            kind,
            lot: lot_name.to_owned(),
            expires_on: b.expires_on,
            delta: diff,
            counted: Some(counted),
        }]
    }
}

/// First expiry first; lots without an expiry after those with one; then by name.
fn fefo_order(a: &LotBalance, b: &LotBalance) -> std::cmp::Ordering {
    match (a.expires_on, b.expires_on) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    }
    .then_with(|| a.lot.cmp(&b.lot))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const K: StockKey = StockKey { site: 1, item: 7 };

    fn d(s: &str) -> Option<NaiveDate> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn take_draws_first_expiry_first() {
        let mut b = StockBook::default();
        b.put(K, MovementKind::Receipt, Some("LATE"), d("2027-06-01"), 10);
        b.put(K, MovementKind::Receipt, Some("EARLY"), d("2026-12-01"), 5);
        let e = b.take(K, MovementKind::Issue, None, 8).unwrap();
        let drawn: Vec<(&str, i64)> = e.iter().map(|e| (e.lot.as_str(), e.delta)).collect();
        assert_eq!(drawn, [("EARLY", -5), ("LATE", -3)]);
        assert_eq!(b.on_hand(K), 7);
    }

    #[test]
    fn short_take_is_refused_and_changes_nothing() {
        let mut b = StockBook::default();
        b.put(K, MovementKind::Receipt, None, None, 4);
        let err = b.take(K, MovementKind::Issue, None, 5).unwrap_err();
        assert_eq!(
            err,
            StockError::Insufficient {
                key: K,
                lot: None,
                balance: 4,
                requested: 5
            }
        );
        assert_eq!(b.on_hand(K), 4);
        // A named lot counts only its own stock.
        assert!(b.take(K, MovementKind::Issue, Some("X"), 1).is_err());
    }

    #[test]
    fn count_records_the_difference_and_the_snapshot() {
        let mut b = StockBook::default();
        b.put(K, MovementKind::Receipt, None, None, 100);
        let e = b.count(K, None, 60);
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].delta, e[0].counted), (-40, Some(60)));
        let e = b.count(K, None, 60);
        assert_eq!((e[0].delta, e[0].counted), (0, Some(60)));
        let e = b.count(K, None, 75);
        assert_eq!(e[0].delta, 15);
        assert_eq!(b.on_hand(K), 75);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Put(Option<u8>, i64),
        Take(Option<u8>, i64),
        Count(Option<u8>, i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        let lot = proptest::option::of(0u8..3);
        prop_oneof![
            (lot.clone(), 1i64..50).prop_map(|(l, q)| Op::Put(l, q)),
            (lot.clone(), 1i64..80).prop_map(|(l, q)| Op::Take(l, q)),
            (lot, 0i64..60).prop_map(|(l, q)| Op::Count(l, q)),
        ]
    }

    proptest! {
        /// Whatever the sequence, the balance equals the sum of the movements recorded,
        /// no lot ever goes negative, and a refused take records nothing.
        #[test]
        fn balances_equal_ledger_and_never_go_negative(ops in proptest::collection::vec(op(), 1..60)) {
            let mut b = StockBook::default();
            let mut ledger = 0i64;
            for op in ops {
                let before = b.on_hand(K);
                let name = |l: Option<u8>| l.map(|x| format!("L{x}"));
                let entries = match op {
                    Op::Put(l, q) => b.put(K, MovementKind::Receipt, name(l).as_deref(), None, q),
                    Op::Take(l, q) => match b.take(K, MovementKind::Issue, name(l).as_deref(), q) {
                        Ok(e) => {
                            prop_assert_eq!(e.iter().map(|e| e.delta).sum::<i64>(), -q);
                            e
                        }
                        Err(_) => { prop_assert_eq!(b.on_hand(K), before); vec![] }
                    },
                    Op::Count(l, q) => {
                        let e = b.count(K, name(l).as_deref(), q);
                        if l.is_none() { prop_assert_eq!(b.on_hand(K), q); }
                        e
                    }
                };
                ledger += entries.iter().map(|e| e.delta).sum::<i64>();
                prop_assert_eq!(ledger, b.on_hand(K));
                prop_assert!(b.balances().all(|(_, l)| l.quantity >= 0));
            }
        }
    }
}
