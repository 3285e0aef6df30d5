//! What each unit needs from a delivery: the larger of what the order-up-to rule says to
//! order (supply status, in whole packs) and what the unit's open requests ask for, with the
//! reason for each line and the days of supply before and after.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The supply position of one unit × item, as supply status assessed it.
#[derive(Clone, Debug, PartialEq)]
pub struct PairPosition {
    pub site: i64,
    pub item: i64,
    /// The unit's priority tier (1 first).
    pub tier: u8,
    pub on_hand: i64,
    pub in_transit: i64,
    pub pack_size: i64,
    /// Forecast use per day; 0 when nothing is used.
    pub burn_rate: f64,
    /// Median days of supply now.
    pub days_of_supply: f64,
    /// Probability of running out within the unit's lead time.
    pub stockout_probability: f64,
    /// Order-up-to minus position, in whole packs (0 when above).
    pub suggested_order: i64,
}

/// What open requests ask of one unit × item, summed.
#[derive(Clone, Debug, PartialEq)]
pub struct Requested {
    pub site: i64,
    pub item: i64,
    pub quantity: i64,
    pub urgent: bool,
}

/// Why a line is proposed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum NeedReason {
    /// The forecast says to order (order-up-to at the service level).
    Forecast,
    /// An open request asks for it.
    Request,
    /// Both, the need is the larger.
    Both,
    /// A planner named the line explicitly.
    Planner,
}

/// One proposed line of a delivery.
#[derive(Clone, Debug, PartialEq)]
pub struct Need {
    pub site: i64,
    pub item: i64,
    /// Tier the line is allocated in: the unit's, or 1 for an urgent request.
    pub tier: u8,
    pub pack_size: i64,
    /// Base units, whole packs.
    pub need: i64,
    pub reason: NeedReason,
    pub from_forecast: i64,
    pub from_requests: i64,
    pub urgent: bool,
    /// On hand + in transit.
    pub position: i64,
    pub burn_rate: f64,
    pub days_before: Option<f64>,
    pub stockout_probability_before: Option<f64>,
}

impl Need {
    /// Days the position would last at the burn rate with `delivered` more.
    pub fn days_with(&self, delivered: i64) -> Option<f64> {
        (self.burn_rate > 0.0).then(|| (self.position + delivered) as f64 / self.burn_rate)
    }
}

fn whole_packs(q: i64, pack: i64) -> i64 {
    let pack = pack.max(1);
    (q + pack - 1) / pack * pack
}

/// The need of every unit × item that has one, ordered by site then item. A request
/// quantity is rounded up to whole packs (the warehouse ships packs); an urgent request
/// puts its line in tier 1, whatever the unit's tier. A pair without an assessment (no
/// history yet) is proposed from its requests alone.
pub fn propose(
    positions: &[PairPosition],
    requested: &[Requested],
    pack_sizes: &BTreeMap<i64, i64>,
) -> Vec<Need> {
    // Per site × item: its assessment and its requests, either may be missing.
    type Sources<'a> = (Option<&'a PairPosition>, Option<&'a Requested>);
    let mut by_pair: BTreeMap<(i64, i64), Sources> = BTreeMap::new();
    for p in positions {
        by_pair.entry((p.site, p.item)).or_default().0 = Some(p);
    }
    for r in requested {
        by_pair.entry((r.site, r.item)).or_default().1 = Some(r);
    }
    let mut out = Vec::new();
    for ((site, item), (pos, req)) in by_pair {
        let pack = pos
            .map(|p| p.pack_size)
            .or_else(|| pack_sizes.get(&item).copied())
            .unwrap_or(1)
            .max(1);
        let from_forecast = pos.map_or(0, |p| whole_packs(p.suggested_order.max(0), pack));
        let from_requests = req.map_or(0, |r| whole_packs(r.quantity.max(0), pack));
        let need = from_forecast.max(from_requests);
        if need == 0 {
            continue;
        }
        let reason = match (from_forecast > 0, from_requests > 0) {
            (true, true) => NeedReason::Both,
            (true, false) => NeedReason::Forecast,
            _ => NeedReason::Request,
        };
        let urgent = req.is_some_and(|r| r.urgent);
        let tier = if urgent { 1 } else { pos.map_or(3, |p| p.tier) };
        out.push(Need {
            site,
            item,
            tier,
            pack_size: pack,
            need,
            reason,
            from_forecast,
            from_requests,
            urgent,
            position: pos.map_or(0, |p| p.on_hand + p.in_transit),
            burn_rate: pos.map_or(0.0, |p| p.burn_rate.max(0.0)),
            days_before: pos.filter(|p| p.burn_rate > 0.0).map(|p| p.days_of_supply),
            stockout_probability_before: pos.map(|p| p.stockout_probability),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pos(site: i64, suggested: i64) -> PairPosition {
        PairPosition {
            site,
            item: 7,
            tier: 2,
            on_hand: 40,
            in_transit: 0,
            pack_size: 20,
            burn_rate: 10.0,
            days_of_supply: 4.0,
            stockout_probability: 0.3,
            suggested_order: suggested,
        }
    }

    #[test]
    fn the_larger_of_forecast_and_request_wins_with_its_reason() {
        let positions = [pos(1, 100), pos(2, 0), pos(3, 60)];
        let requested = [
            Requested {
                site: 2,
                item: 7,
                quantity: 30,
                urgent: false,
            },
            Requested {
                site: 3,
                item: 7,
                quantity: 5,
                urgent: true,
            },
            Requested {
                site: 4,
                item: 7,
                quantity: 3,
                urgent: false,
            },
        ];
        let packs = BTreeMap::from([(7, 20)]);
        let n = propose(&positions, &requested, &packs);
        let got: Vec<(i64, i64, NeedReason, u8)> = n
            .iter()
            .map(|l| (l.site, l.need, l.reason, l.tier))
            .collect();
        assert_eq!(
            got,
            [
                (1, 100, NeedReason::Forecast, 2),
                // 30 asked, rounded up to two packs of 20.
                (2, 40, NeedReason::Request, 2),
                // Urgent: tier 1; the forecast's 60 is larger than one pack asked.
                (3, 60, NeedReason::Both, 1),
                // No assessment yet: the request alone, default tier 3, no days known.
                (4, 20, NeedReason::Request, 3),
            ]
        );
        assert_eq!(n[0].days_with(100), Some(14.0));
        assert_eq!(n[3].days_before, None);
    }
}
