//! Sharing one item's depot stock among units for one delivery when it is short: priority
//! tiers in order, days of supply equalised inside a tier in whole packs, lots first expiry first.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

/// One unit's need of one item for one delivery.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct NeedLine {
    /// Site id (an opaque key; also breaks ties).
    pub unit: i64,
    /// 1 is served first … 4 last.
    pub tier: u8,
    /// Base units wanted (>= 0); normally whole packs already.
    pub need: i64,
    /// On hand + in transit at the unit now (>= 0).
    pub position: i64,
    /// Expected use per day (>= 0; 0 = unknown/no use).
    pub burn_rate: f64,
    /// Base units per pack (>= 1).
    pub pack_size: i64,
}

/// Why a line got what it got.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AllocationReason {
    /// Got its whole need.
    Full,
    /// Cut to the common days-of-supply level of its tier (the level, rounded to 0.1 day).
    FairShare { days: f64 },
    /// Got nothing: a higher tier took the stock.
    TierAfter,
    /// The depot holds none of the item at all.
    NoStock,
}

/// What one line was given.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Allocated {
    pub unit: i64,
    pub requested: i64,
    pub allocated: i64,
    pub reason: AllocationReason,
    /// (position + allocated) / burn_rate; None when burn_rate is 0.
    pub days_after: Option<f64>,
    /// position / burn_rate; None when burn_rate is 0.
    pub days_before: Option<f64>,
}

/// Allocates `available` base units of ONE item among `needs` (result in the same order as
/// `needs`).
///
/// The method is water-filling under shortage, as used in humanitarian supply allocation:
/// priority tiers are served in order, and inside a tier days of supply are equalised. In whole
/// packs that means handing out one handout at a time — a pack, or the rest of the need when
/// less than a pack is missing — to the unit with the fewest days of supply after delivery,
/// (position + allocated) / burn_rate, ties broken by unit id (then input order). This is used
/// instead of computing shares and rounding them by largest remainder, which can give a unit
/// less when there is more stock (the Alabama paradox).
///
/// - Units with no burn rate (0, negative or not finite) get stock only after every unit of
///   their tier with a rate is full or cannot take its next handout; among themselves one
///   handout at a time, round robin in unit-id order.
/// - A pack is indivisible. A unit whose next handout is larger than the stock left is passed
///   over for good (the stock only shrinks, so it never fits later), and the stock goes on to
///   the next unit in line whose handout fits: inside the tier first, then lower tiers. So a
///   lower tier gets stock only when no handout of any higher tier fits in what is left, and
///   at the end every line that is not full has a next handout larger than the stock left.
/// - More stock never gives a unit less when every handout is a whole pack of one size (one
///   item's pack, needs in whole packs: the normal case): the handouts then go out in one
///   fixed order and the stock only decides where the order stops. A last partial pack,
///   handed out because the whole pack ahead of it did not fit, can be crowded out by that
///   pack when the stock grows: such a unit gets less by under one pack. Lines of one item
///   with different pack sizes have no such bound.
/// - Negative needs and positions count as 0, a pack size below 1 as 1, negative stock as 0.
///
/// Reasons: `Full` when the whole need is given (a need of 0 included, even without stock);
/// else `NoStock` when `available` is 0; else `TierAfter` when nobody of the line's tier got
/// anything while a higher tier did; else `FairShare` with the tier's level: the fewest days
/// after delivery among the tier's units with a rate that are not full, or, when all of those
/// are full (only units without a rate were cut), the most days among them; 0 when the tier
/// has no unit with a rate.
///
/// Cost: O(n log n) to sort the lines, then per tier O(n · 64) per round of a bisection on
/// the water level that hands out every pack below it at once, plus O(log n) per pack handed
/// out one at a time at the level itself. A round ends when a unit's handout no longer fits,
/// which for one pack size happens once, so in practice a tier costs about 64 passes over its
/// lines whatever the quantities; the result equals handing out one pack at a time.
pub fn allocate(needs: &[NeedLine], available: i64) -> Vec<Allocated> {
    let available = available.max(0);
    let mut given = vec![0i64; needs.len()];
    let mut order: Vec<usize> = (0..needs.len()).collect();
    order.sort_by_key(|&i| (phase(&needs[i]), i));
    let mut left = available;
    for group in order.chunk_by(|&a, &b| phase(&needs[a]) == phase(&needs[b])) {
        let mut fillers: Vec<Filler> = group.iter().map(|&i| Filler::new(i, &needs[i])).collect();
        left = fill(&mut fillers, left);
        for f in &fillers {
            given[f.line] = f.given;
        }
    }

    let tiers = tier_summaries(needs, &given);
    needs
        .iter()
        .zip(&given)
        .map(|(n, &allocated)| {
            let need = n.need.max(0);
            let t = &tiers[&n.tier];
            let reason = if allocated == need {
                AllocationReason::Full
            } else if available == 0 {
                AllocationReason::NoStock
            } else if !t.got_any && t.earlier_got_any {
                AllocationReason::TierAfter
            } else {
                AllocationReason::FairShare {
                    days: (t.level() * 10.0).round() / 10.0,
                }
            };
            let rate = burn_rate(n.burn_rate);
            let position = n.position.max(0);
            Allocated {
                unit: n.unit,
                requested: need,
                allocated,
                reason,
                days_after: rate.map(|b| position.saturating_add(allocated) as f64 / b),
                days_before: rate.map(|b| position as f64 / b),
            }
        })
        .collect()
}

/// The burn rate when it can measure days; anything else means "no rate".
fn burn_rate(b: f64) -> Option<f64> {
    (b.is_finite() && b > 0.0).then_some(b)
}

/// Order of service: tier, then within a tier lines with a rate before lines without.
fn phase(n: &NeedLine) -> (u8, bool) {
    (n.tier, burn_rate(n.burn_rate).is_none())
}

/// A line taking part in one phase of the fill.
struct Filler {
    line: usize,
    unit: i64,
    /// Stock the level counts from: the position, or 0 for a line without a rate.
    base: i64,
    /// Divides stock into the level: the burn rate (level = days of supply), or the pack
    /// size for a line without a rate (level = handouts received, so lowest level first is a
    /// round robin in unit order).
    rate: f64,
    pack: i64,
    need: i64,
    given: i64,
}

impl Filler {
    fn new(line: usize, n: &NeedLine) -> Filler {
        let pack = n.pack_size.max(1);
        let (base, rate) = match burn_rate(n.burn_rate) {
            Some(b) => (n.position.max(0), b),
            None => (0, pack as f64),
        };
        Filler {
            line,
            unit: n.unit,
            base,
            rate,
            pack,
            need: n.need.max(0),
            given: 0,
        }
    }

    fn rest(&self) -> i64 {
        self.need - self.given
    }

    fn handout(&self) -> i64 {
        self.pack.min(self.rest())
    }

    /// The level after `extra` more base units. Every comparison of levels goes through this
    /// one expression, so the jumps below and the one-at-a-time steps agree to the last bit.
    fn level_with(&self, extra: i64) -> f64 {
        self.base.saturating_add(self.given + extra) as f64 / self.rate
    }

    fn turn(&self, slot: usize) -> Turn {
        Turn {
            level: self.level_with(0),
            unit: self.unit,
            slot,
        }
    }

    /// Base units of the handouts still to come that start below `level` (handout j starts
    /// at the level after j whole packs).
    fn take_below(&self, level: f64) -> i64 {
        let rest = self.rest();
        if rest <= 0 {
            return 0;
        }
        let handouts = (rest + self.pack - 1) / self.pack;
        let start = self.base.saturating_add(self.given) as f64;
        // Only a first guess (`as` saturates, NaN gives 0); the loops settle it against the
        // exact level of each handout, which rises with j.
        let guess = ((level * self.rate - start) / self.pack as f64).ceil();
        let mut n = (guess as i64).clamp(0, handouts);
        while n > 0 && self.level_with((n - 1) * self.pack) >= level {
            n -= 1;
        }
        while n < handouts && self.level_with(n * self.pack) < level {
            n += 1;
        }
        (n * self.pack).min(rest)
    }
}

/// A line's place in the queue: lowest level first, then unit id, then input order.
struct Turn {
    level: f64,
    unit: i64,
    slot: usize,
}

impl Ord for Turn {
    fn cmp(&self, other: &Self) -> Ordering {
        self.level
            .total_cmp(&other.level)
            .then(self.unit.cmp(&other.unit))
            .then(self.slot.cmp(&other.slot))
    }
}

impl PartialOrd for Turn {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Turn {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Turn {}

/// Hands out `left` among the lines of one phase, one handout at a time to the lowest level;
/// returns the stock left.
///
/// Handing out one pack at a time takes the handouts in order of the level they start at
/// (each line's levels rise), so all handouts that start below a level L come first. When they
/// fit together they are given at once; L is bisected on the bit pattern of the (non-negative)
/// level, which orders like the value, to the highest such level. The handouts at L itself are
/// then stepped through with a heap until one does not fit, and the whole repeats with what is
/// left for the lines whose handouts still fit. When fewer handouts can fit than there are
/// lines, they are stepped through without a bisection.
fn fill(fillers: &mut [Filler], mut left: i64) -> i64 {
    let mut active: Vec<usize> = (0..fillers.len()).collect();
    loop {
        // A handout that does not fit now never will (the stock only shrinks, the handout
        // only changes when served), so passing the line over now changes nobody's turn.
        active.retain(|&s| fillers[s].rest() > 0 && fillers[s].handout() <= left);
        if active.is_empty() {
            return left;
        }
        let below = |level: f64| -> i128 {
            active
                .iter()
                .map(|&s| i128::from(fillers[s].take_below(level)))
                .sum()
        };
        // Levels are >= 0, so no handout starts below 0.0 (bits 0), and all start below ∞.
        let (mut lo, mut hi) = (0u64, f64::INFINITY.to_bits());
        let smallest = active
            .iter()
            .map(|&s| fillers[s].handout())
            .min()
            .unwrap_or(1);
        if left / smallest <= active.len() as i64 {
            // Only a few handouts can still fit: stepping them costs less than a bisection.
            hi = lo;
        } else if below(f64::INFINITY) <= i128::from(left) {
            lo = hi;
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if below(f64::from_bits(mid)) <= i128::from(left) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        let level = f64::from_bits(lo);
        for &s in &active {
            let t = fillers[s].take_below(level);
            fillers[s].given += t;
            left -= t;
        }

        let mut queue: BinaryHeap<Reverse<Turn>> = active
            .iter()
            .filter(|&&s| fillers[s].rest() > 0)
            .map(|&s| Reverse(fillers[s].turn(s)))
            .collect();
        while let Some(Reverse(turn)) = queue.pop() {
            let f = &mut fillers[turn.slot];
            let h = f.handout();
            if h > left {
                break; // passed over at the top of the loop; the level jump resumes
            }
            f.given += h;
            left -= h;
            if f.rest() > 0 {
                queue.push(Reverse(f.turn(turn.slot)));
            }
        }
    }
}

/// What the reasons need to know of a tier.
#[derive(Default)]
struct TierSummary {
    got_any: bool,
    earlier_got_any: bool,
    /// Fewest days after delivery among lines with a rate that are not full.
    short_level: Option<f64>,
    /// Most days after delivery among lines with a rate.
    top_level: Option<f64>,
}

impl TierSummary {
    fn level(&self) -> f64 {
        self.short_level.or(self.top_level).unwrap_or(0.0)
    }
}

fn tier_summaries(needs: &[NeedLine], given: &[i64]) -> BTreeMap<u8, TierSummary> {
    let mut tiers: BTreeMap<u8, TierSummary> = BTreeMap::new();
    for (n, &g) in needs.iter().zip(given) {
        let t = tiers.entry(n.tier).or_default();
        t.got_any |= g > 0;
        if let Some(b) = burn_rate(n.burn_rate) {
            let days = n.position.max(0).saturating_add(g) as f64 / b;
            if g < n.need.max(0) {
                t.short_level = Some(t.short_level.map_or(days, |d| d.min(days)));
            }
            t.top_level = Some(t.top_level.map_or(days, |d| d.max(days)));
        }
    }
    let mut earlier = false;
    for t in tiers.values_mut() {
        t.earlier_got_any = earlier;
        earlier |= t.got_any;
    }
    tiers
}

/// Stock of one lot of the item at the depot.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LotStock {
    pub lot: String,
    pub expires_on: Option<NaiveDate>,
    pub quantity: i64,
}

/// Base units of one lot going to one unit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LotPick {
    pub lot: String,
    pub expires_on: Option<NaiveDate>,
    pub quantity: i64,
}

/// First expiry first; lots that do not expire last; then by lot name.
fn fefo(a: &LotStock, b: &LotStock) -> Ordering {
    (a.expires_on.is_none(), a.expires_on, &a.lot).cmp(&(
        b.expires_on.is_none(),
        b.expires_on,
        &b.lot,
    ))
}

/// Stock of the lots that can be used: drops lots that expire before `usable_from` (the
/// delivery date plus the shortest remaining shelf life worth shipping) and lots with no stock;
/// returns the usable lots sorted first-expiry-first (no expiry last, then by lot name) and
/// their total.
pub fn usable_lots(lots: &[LotStock], usable_from: NaiveDate) -> (Vec<LotStock>, i64) {
    let mut usable: Vec<LotStock> = lots
        .iter()
        .filter(|l| l.quantity > 0 && l.expires_on.is_none_or(|d| d >= usable_from))
        .cloned()
        .collect();
    usable.sort_by(fefo);
    let total = usable.iter().map(|l| l.quantity).sum();
    (usable, total)
}

/// Splits each unit's allocation over the lots, first expiry first. Units that burn fastest
/// get the shortest-dated lots first (they use them soonest): units in order of burn rate
/// descending (no or invalid rate counts as 0), then unit id, then input order. Returns per
/// input allocation (same order) the picks, first expiry first; Σ picks = allocated.
///
/// Precondition: Σ allocated ≤ Σ lot quantities. The lots are sorted here (callers may pass
/// them unsorted) and lots with no stock skipped; nothing filters expiry, so pass the lots of
/// [`usable_lots`]. Should the lots run out anyway, the last units in the order get short picks.
pub fn pick_lots(allocations: &[(i64, f64, i64)], lots: &[LotStock]) -> Vec<Vec<LotPick>> {
    let mut lots: Vec<&LotStock> = lots.iter().filter(|l| l.quantity > 0).collect();
    lots.sort_by(|a, b| fefo(a, b));
    let mut order: Vec<usize> = (0..allocations.len()).collect();
    let rate = |i: usize| burn_rate(allocations[i].1).unwrap_or(0.0);
    order.sort_by(|&a, &b| {
        rate(b)
            .total_cmp(&rate(a))
            .then(allocations[a].0.cmp(&allocations[b].0))
            .then(a.cmp(&b))
    });

    let mut picks = vec![Vec::new(); allocations.len()];
    let mut lot = 0;
    let mut used = 0; // of lots[lot]
    for i in order {
        let mut want = allocations[i].2.max(0);
        while want > 0 && lot < lots.len() {
            let take = want.min(lots[lot].quantity - used);
            picks[i].push(LotPick {
                lot: lots[lot].lot.clone(),
                expires_on: lots[lot].expires_on,
                quantity: take,
            });
            want -= take;
            used += take;
            if used == lots[lot].quantity {
                lot += 1;
                used = 0;
            }
        }
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(unit: i64, tier: u8, need: i64, position: i64, burn_rate: f64, pack: i64) -> NeedLine {
        NeedLine {
            unit,
            tier,
            need,
            position,
            burn_rate,
            pack_size: pack,
        }
    }

    fn given(out: &[Allocated]) -> Vec<i64> {
        out.iter().map(|a| a.allocated).collect()
    }

    fn fair(days: f64) -> AllocationReason {
        AllocationReason::FairShare { days }
    }

    /// Three units of one tier, nothing on hand, packs of 10, burning 10, 20 and 5 a day: a
    /// pack is 1, 0.5 and 2 days to them. Handouts in order of the level they start at (ties
    /// by unit id): 0: u1 u2 u3 | 0.5: u2 | 1: u1 u2 | 1.5: u2 | 2: u1 u2 u3 | 2.5: u2 |
    /// 3: u1 u2 | 3.5: u2 | 4: u1 u2 u3 | …  The 14 packs up to 3.5 days put all three at
    /// exactly 4 days (40, 80, 20); the 15th pack goes to u1, first by id at 4 days.
    #[test]
    fn three_units_share_by_days_of_supply() {
        let needs = [
            line(1, 1, 100, 0, 10.0, 10),
            line(2, 1, 100, 0, 20.0, 10),
            line(3, 1, 100, 0, 5.0, 10),
        ];
        let out = allocate(&needs, 140);
        assert_eq!(given(&out), [40, 80, 20]);
        assert!(out.iter().all(|a| a.days_after == Some(4.0)));
        assert!(out.iter().all(|a| a.reason == fair(4.0)));

        let out = allocate(&needs, 150);
        assert_eq!(given(&out), [50, 80, 20]);
        assert_eq!(out[0].days_after, Some(5.0));
        assert_eq!(out[0].days_before, Some(0.0));
        // The level is the short units' fewest days; u1 is one pack above it.
        assert!(out.iter().all(|a| a.reason == fair(4.0)));
        assert_eq!(out[0].requested, 100);
    }

    /// Unit 1 holds 4 days, unit 2 10; a pack is one day to either. Unit 1 is brought up to
    /// 10 days (60) before unit 2 gets anything; at the tie of 10 days unit 1 goes first by
    /// id, then they alternate.
    #[test]
    fn a_unit_above_the_level_gets_nothing_until_the_others_reach_it() {
        let needs = [
            line(1, 1, 200, 40, 10.0, 10),
            line(2, 1, 200, 100, 10.0, 10),
        ];
        assert_eq!(given(&allocate(&needs, 60)), [60, 0]);
        assert_eq!(given(&allocate(&needs, 70)), [70, 0]);
        assert_eq!(given(&allocate(&needs, 80)), [70, 10]);
        let out = allocate(&needs, 60);
        assert_eq!(out[1].reason, fair(10.0));
        assert_eq!(out[1].days_after, Some(10.0));
    }

    #[test]
    fn a_higher_tier_is_served_first_even_with_more_days() {
        let needs = [line(1, 2, 50, 0, 1.0, 10), line(2, 1, 50, 100, 10.0, 10)];
        let out = allocate(&needs, 40);
        assert_eq!(given(&out), [0, 40]);
        assert_eq!(out[0].reason, AllocationReason::TierAfter);
        assert_eq!(out[1].reason, fair(14.0));
    }

    /// 25 in stock: tier 1 takes two packs; its third does not fit in the 5 left, which
    /// completes the tier-2 unit's need of half a pack.
    #[test]
    fn stock_too_small_for_a_higher_tier_pack_goes_to_a_lower_tier_handout_that_fits() {
        let needs = [line(1, 1, 100, 0, 1.0, 10), line(2, 2, 5, 0, 1.0, 10)];
        let out = allocate(&needs, 25);
        assert_eq!(given(&out), [20, 5]);
        assert_eq!(out[0].reason, fair(20.0));
        assert_eq!(out[1].reason, AllocationReason::Full);
    }

    #[test]
    fn the_last_partial_pack_completes_the_need() {
        let needs = [line(1, 1, 25, 0, 1.0, 10)];
        let out = allocate(&needs, 100);
        assert_eq!(given(&out), [25]);
        assert_eq!(out[0].reason, AllocationReason::Full);
    }

    /// Unit 5 has a rate and is filled first (20, to 10 days); units 3 and 7 have none and
    /// take turns in id order: 3, 7, 3, 7.
    #[test]
    fn units_without_rate_wait_for_those_with_one_then_take_turns() {
        let needs = [
            line(7, 1, 30, 0, 0.0, 10),
            line(5, 1, 20, 0, 2.0, 10),
            line(3, 1, 30, 0, 0.0, 10),
        ];
        let out = allocate(&needs, 60);
        assert_eq!(given(&out), [20, 20, 20]);
        assert_eq!(out[1].reason, AllocationReason::Full);
        // Every unit with a rate is full: the level is the highest of theirs.
        assert_eq!(out[0].reason, fair(10.0));
        assert_eq!(out[0].days_after, None);
        assert_eq!(given(&allocate(&needs, 50)), [10, 20, 20]);
    }

    #[test]
    fn no_stock_and_zero_need() {
        let needs = [line(1, 1, 30, 0, 1.0, 10), line(2, 1, 0, 0, 1.0, 10)];
        let out = allocate(&needs, 0);
        assert_eq!(given(&out), [0, 0]);
        assert_eq!(out[0].reason, AllocationReason::NoStock);
        assert_eq!(out[1].reason, AllocationReason::Full);
        assert!(allocate(&[], 10).is_empty());
    }

    /// The bound of the monotonicity rule: with 9 units unit 1's pack does not fit and the 5
    /// unit 2 lacks is handed out; with 10, unit 1 (0 days against 50) takes the pack first.
    #[test]
    fn a_partial_pack_can_be_crowded_out_by_a_whole_one_ahead_of_it() {
        let needs = [line(1, 1, 100, 0, 1.0, 10), line(2, 1, 5, 50, 1.0, 10)];
        assert_eq!(given(&allocate(&needs, 9)), [0, 5]);
        assert_eq!(given(&allocate(&needs, 10)), [10, 0]);
        assert_eq!(given(&allocate(&needs, 15)), [10, 5]);
    }

    #[test]
    fn reasons_serialise_with_a_kind_tag() {
        let j = serde_json::to_value(fair(4.5)).unwrap();
        assert_eq!(j, serde_json::json!({"kind": "fair_share", "days": 4.5}));
        let j = serde_json::to_value(AllocationReason::TierAfter).unwrap();
        assert_eq!(j, serde_json::json!({"kind": "tier_after"}));
    }

    /// One handout at a time, lowest level first, a line passed over when its handout does
    /// not fit at its turn: the definition `allocate` must equal.
    fn one_at_a_time(needs: &[NeedLine], available: i64) -> Vec<i64> {
        let level = |n: &NeedLine, g: i64| match burn_rate(n.burn_rate) {
            Some(b) => (n.position.max(0) + g) as f64 / b,
            None => g as f64 / n.pack_size.max(1) as f64,
        };
        let mut given = vec![0i64; needs.len()];
        let mut left = available.max(0);
        let mut phases: Vec<(u8, bool)> = needs.iter().map(phase).collect();
        phases.sort();
        phases.dedup();
        for p in phases {
            let mut live: Vec<usize> = (0..needs.len())
                .filter(|&i| phase(&needs[i]) == p && needs[i].need > 0)
                .collect();
            while !live.is_empty() {
                let (at, &i) = live
                    .iter()
                    .enumerate()
                    .min_by(|&(_, &a), &(_, &b)| {
                        level(&needs[a], given[a])
                            .total_cmp(&level(&needs[b], given[b]))
                            .then(needs[a].unit.cmp(&needs[b].unit))
                            .then(a.cmp(&b))
                    })
                    .unwrap();
                let h = needs[i].pack_size.max(1).min(needs[i].need - given[i]);
                if h > left {
                    live.remove(at);
                    continue;
                }
                given[i] += h;
                left -= h;
                if given[i] == needs[i].need {
                    live.remove(at);
                }
            }
        }
        given
    }

    fn any_line() -> impl Strategy<Value = NeedLine> {
        let burn = prop_oneof![
            Just(0.0),
            Just(1.0),
            Just(2.5),
            Just(4.0),
            Just(10.0),
            0.05f64..60.0
        ];
        (0i64..25, 1u8..=4, 0i64..400, 0i64..300, burn, 1i64..=25).prop_map(
            |(unit, tier, need, position, burn, pack)| line(unit, tier, need, position, burn, pack),
        )
    }

    /// Lines and a stock from none to a fifth more than the total need.
    fn any_case() -> impl Strategy<Value = (Vec<NeedLine>, i64)> {
        proptest::collection::vec(any_line(), 0..30).prop_flat_map(|lines| {
            let total: i64 = lines.iter().map(|l| l.need).sum();
            (Just(lines), 0..=total + total / 5 + 1)
        })
    }

    /// One item's lines: one pack size, needs in whole packs.
    fn whole_pack_case() -> impl Strategy<Value = (Vec<NeedLine>, i64)> {
        let burn = prop_oneof![Just(0.0), Just(1.0), Just(2.0), Just(5.0), 0.05f64..60.0];
        let body = (0i64..25, 1u8..=3, 0i64..30, 0i64..300, burn);
        (1i64..=25, proptest::collection::vec(body, 0..30)).prop_flat_map(|(pack, bodies)| {
            let lines: Vec<NeedLine> = bodies
                .into_iter()
                .map(|(unit, tier, packs, position, burn)| {
                    line(unit, tier, packs * pack, position, burn, pack)
                })
                .collect();
            let total: i64 = lines.iter().map(|l| l.need).sum();
            (Just(lines), 0..=total + 1)
        })
    }

    proptest! {
        #[test]
        fn equals_handing_out_one_pack_at_a_time((needs, available) in any_case()) {
            prop_assert_eq!(given(&allocate(&needs, available)), one_at_a_time(&needs, available));
        }

        /// (a) Never above need or stock; whole packs unless completing the need.
        #[test]
        fn within_need_stock_and_whole_packs((needs, available) in any_case()) {
            let out = allocate(&needs, available);
            prop_assert!(out.iter().map(|a| a.allocated).sum::<i64>() <= available);
            for (n, a) in needs.iter().zip(&out) {
                prop_assert_eq!(a.unit, n.unit);
                prop_assert!(a.allocated >= 0 && a.allocated <= n.need);
                prop_assert!(a.allocated % n.pack_size == 0 || a.allocated == n.need);
            }
        }

        /// (b) A line left short could not have taken its next handout out of what was left
        /// when its phase ended: the stock left at the end plus all that later phases (lower
        /// tiers; in its tier the lines without a rate, after those with one) received.
        #[test]
        fn short_lines_could_not_take_what_later_phases_got((needs, available) in any_case()) {
            let out = allocate(&needs, available);
            let left = available - out.iter().map(|a| a.allocated).sum::<i64>();
            for (n, a) in needs.iter().zip(&out) {
                if a.allocated == n.need {
                    continue;
                }
                let later: i64 = needs
                    .iter()
                    .zip(&out)
                    .filter(|(m, _)| phase(m) > phase(n))
                    .map(|(_, b)| b.allocated)
                    .sum();
                let next = n.pack_size.min(n.need - a.allocated);
                prop_assert!(next > left + later, "unit {} short by {} while {} + {} went unused or later", n.unit, next, left, later);
            }
        }

        /// (c) Inside a tier, a unit that got stock started its last pack at no more days than
        /// any unit left short has at the end, so it started at or below that level too;
        /// units without a rate differ by at most one handout, the extra one to the lower id.
        #[test]
        fn days_are_levelled_within_a_pack((needs, available) in whole_pack_case()) {
            let out = allocate(&needs, available);
            let eps = 1e-9;
            for (i, (ni, ai)) in needs.iter().zip(&out).enumerate() {
                if ai.allocated == 0 {
                    continue;
                }
                for (j, (nj, aj)) in needs.iter().zip(&out).enumerate() {
                    if nj.tier != ni.tier || aj.allocated == nj.need || phase(ni) != phase(nj) {
                        continue;
                    }
                    if let (Some(bi), Some(_)) = (burn_rate(ni.burn_rate), burn_rate(nj.burn_rate)) {
                        let last_start = (ni.position + ai.allocated - ni.pack_size) as f64 / bi;
                        let short = aj.days_after.unwrap();
                        prop_assert!(last_start <= short + eps, "unit {} started a pack at {} above unit {} at {}", ni.unit, last_start, nj.unit, short);
                        prop_assert!(ai.days_before.unwrap() <= short + eps);
                    } else {
                        let (ki, kj) = (ai.allocated / ni.pack_size, aj.allocated / nj.pack_size);
                        prop_assert!(ki <= kj + 1);
                        if ki == kj + 1 {
                            prop_assert!((ni.unit, i) < (nj.unit, j));
                        }
                    }
                }
            }
        }

        /// (d) More stock never gives a unit less, for one pack size and needs in whole packs.
        #[test]
        fn more_stock_never_gives_less((needs, available) in whole_pack_case(), more in 0i64..200) {
            let before = allocate(&needs, available);
            let after = allocate(&needs, available + more);
            for (b, a) in before.iter().zip(&after) {
                prop_assert!(a.allocated >= b.allocated, "unit {}: {} with {} but {} with {}", a.unit, b.allocated, available, a.allocated, available + more);
            }
        }

        /// (d') With one pack size but partial needs, a unit can lose at most a partial pack.
        #[test]
        fn more_stock_loses_under_one_pack(
            pack in 1i64..=25,
            lines in proptest::collection::vec(any_line(), 0..30),
            available in 0i64..3000,
            more in 0i64..200,
        ) {
            let needs: Vec<NeedLine> = lines.into_iter().map(|l| NeedLine { pack_size: pack, ..l }).collect();
            let before = allocate(&needs, available);
            let after = allocate(&needs, available + more);
            for (b, a) in before.iter().zip(&after) {
                prop_assert!(a.allocated > b.allocated - pack);
            }
        }

        /// (e) Enough for all: everyone full.
        #[test]
        fn enough_stock_fills_every_line((needs, extra) in (proptest::collection::vec(any_line(), 0..30), 0i64..100)) {
            let total: i64 = needs.iter().map(|l| l.need).sum();
            let out = allocate(&needs, total + extra);
            for (n, a) in needs.iter().zip(&out) {
                prop_assert_eq!(a.allocated, n.need);
                prop_assert_eq!(&a.reason, &AllocationReason::Full);
            }
        }

        /// (f) No stock: nothing to anyone, and the reason says so (a need of 0 is Full).
        #[test]
        fn no_stock_gives_nothing(needs in proptest::collection::vec(any_line(), 0..30)) {
            for (n, a) in needs.iter().zip(allocate(&needs, 0)) {
                prop_assert_eq!(a.allocated, 0);
                let want = if n.need == 0 { AllocationReason::Full } else { AllocationReason::NoStock };
                prop_assert_eq!(a.reason, want);
            }
        }

        /// Reasons agree with the allocations.
        #[test]
        fn reasons_match_allocations((needs, available) in any_case()) {
            let out = allocate(&needs, available);
            for (n, a) in needs.iter().zip(&out) {
                let tier_got = needs.iter().zip(&out).any(|(m, b)| m.tier == n.tier && b.allocated > 0);
                match a.reason {
                    AllocationReason::Full => prop_assert_eq!(a.allocated, n.need),
                    AllocationReason::NoStock => prop_assert_eq!(available, 0),
                    AllocationReason::TierAfter => {
                        prop_assert!(!tier_got);
                        prop_assert!(needs.iter().zip(&out).any(|(m, b)| m.tier < n.tier && b.allocated > 0));
                    }
                    AllocationReason::FairShare { days } => {
                        prop_assert!(a.allocated < n.need && available > 0);
                        prop_assert!(days >= 0.0 && days == (days * 10.0).round() / 10.0);
                    }
                }
            }
        }
    }

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn lot(name: &str, expires: Option<&str>, quantity: i64) -> LotStock {
        LotStock {
            lot: name.into(),
            expires_on: expires.map(d),
            quantity,
        }
    }

    fn depot() -> Vec<LotStock> {
        vec![
            lot("C", Some("2026-09-01"), 5),
            lot("A", None, 3),
            lot("B", Some("2026-06-01"), 4),
            lot("D", Some("2026-05-01"), 10),
            lot("E", Some("2026-05-15"), 2),
            lot("F", Some("2026-06-01"), 0),
        ]
    }

    fn summary(picks: &[LotPick]) -> Vec<(&str, i64)> {
        picks.iter().map(|p| (p.lot.as_str(), p.quantity)).collect()
    }

    #[test]
    fn usable_lots_drop_the_expired_and_sort_first_expiry_first() {
        let (usable, total) = usable_lots(&depot(), d("2026-05-15"));
        let names: Vec<&str> = usable.iter().map(|l| l.lot.as_str()).collect();
        // D expires before the date, F is empty; E expiring on the date itself is usable.
        assert_eq!(names, ["E", "B", "C", "A"]);
        assert_eq!(total, 14);
    }

    /// Unit 2 burns fastest and takes E (2) and B (4); unit 1 next takes C; unit 3 without
    /// a rate gets the lot that does not expire.
    #[test]
    fn the_fastest_burners_get_the_shortest_dated_lots() {
        let (usable, _) = usable_lots(&depot(), d("2026-05-15"));
        let picks = pick_lots(&[(1, 2.0, 5), (2, 10.0, 6), (3, 0.0, 3)], &usable);
        assert_eq!(summary(&picks[0]), [("C", 5)]);
        assert_eq!(summary(&picks[1]), [("E", 2), ("B", 4)]);
        assert_eq!(summary(&picks[2]), [("A", 3)]);
        assert_eq!(picks[1][0].expires_on, Some(d("2026-05-15")));
    }

    #[test]
    fn an_expired_lot_is_never_picked() {
        let (usable, total) = usable_lots(&depot(), d("2026-05-15"));
        let picks = pick_lots(&[(1, 50.0, total), (2, 1.0, 0)], &usable);
        assert!(picks.iter().flatten().all(|p| p.lot != "D"));
        assert_eq!(picks[0].iter().map(|p| p.quantity).sum::<i64>(), total);
        assert!(picks[1].is_empty());
    }

    proptest! {
        /// Picks add up to each allocation, no lot gives more than it holds, and a unit later
        /// in the burn order never gets a lot expiring before one an earlier unit got.
        #[test]
        fn picks_add_up_and_follow_the_burn_order(
            lots in proptest::collection::vec((0u8..6, proptest::option::of(0i64..60), 1i64..40), 0..8),
            units in proptest::collection::vec((0i64..10, prop_oneof![Just(0.0), 0.1f64..20.0], 0i64..40), 0..10),
        ) {
            let lots: Vec<LotStock> = lots
                .into_iter()
                .enumerate()
                .map(|(i, (n, e, q))| LotStock {
                    lot: format!("L{n}-{i}"),
                    expires_on: e.map(|k| d("2026-01-01") + chrono::Duration::days(k)),
                    quantity: q,
                })
                .collect();
            let mut stock: i64 = lots.iter().map(|l| l.quantity).sum();
            let allocations: Vec<(i64, f64, i64)> = units
                .into_iter()
                .map(|(u, b, q)| {
                    let q = q.min(stock);
                    stock -= q;
                    (u, b, q)
                })
                .collect();
            let picks = pick_lots(&allocations, &lots);
            prop_assert_eq!(picks.len(), allocations.len());
            for (a, p) in allocations.iter().zip(&picks) {
                prop_assert_eq!(p.iter().map(|p| p.quantity).sum::<i64>(), a.2);
                prop_assert!(p.iter().all(|p| p.quantity > 0));
            }
            for l in &lots {
                let used: i64 = picks.iter().flatten().filter(|p| p.lot == l.lot).map(|p| p.quantity).sum();
                prop_assert!(used <= l.quantity);
            }
            let key = |e: Option<NaiveDate>| (e.is_none(), e);
            for (i, a) in allocations.iter().enumerate() {
                for (j, b) in allocations.iter().enumerate() {
                    if b.1 < a.1 || (b.1 == a.1 && (a.0, i) < (b.0, j)) {
                        let latest = picks[i].iter().map(|p| key(p.expires_on)).max();
                        let earliest = picks[j].iter().map(|p| key(p.expires_on)).min();
                        if let (Some(l), Some(e)) = (latest, earliest) {
                            prop_assert!(l <= e);
                        }
                    }
                }
            }
        }
    }
}
