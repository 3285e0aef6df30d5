//! How long stock lasts and what to order, from on hand + in transit and a forecast's demand
//! distribution: days of supply (`on hand / daily use`, as in the CDC PPE burn-rate
//! calculator) at quantiles, the probability of running out within the lead time, the
//! red/amber/green band, the reorder point and the order-up-to level at a service level.
//!
//! Everything is read off simulated cumulative demand ([`CumulativeDemand`]): the reorder point
//! is the service-level quantile of demand over the lead time, the order-up-to level the same
//! quantile over lead time + target days (a periodic-review (R, S) policy), and the suggested
//! order tops the stock position up to it in whole packs (OpenLMIS, mSupply).

use crate::forecast::{CumulativeDemand, SeriesForecast};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// Knobs of the assessment, with the defaults the field uses.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SupplyPolicy {
    /// Probability of not running out before the next delivery arrives.
    pub service_level: f64,
    /// Days of use a delivery should cover.
    pub target_days: u32,
    /// Days simulated; days of supply beyond it read "at least this many". Two months is far
    /// beyond any reorder decision, and the simulation's cost is linear in it (it runs again on
    /// every stock report).
    pub horizon_days: u32,
    pub paths: usize,
    pub seed: u64,
}

impl Default for SupplyPolicy {
    fn default() -> Self {
        SupplyPolicy {
            service_level: 0.95,
            target_days: 14,
            horizon_days: 60,
            paths: 1000,
            seed: 0x5eed,
        }
    }
}

/// Colour of days of supply: red under 3 days (the NHS tracker's < 1, 1–2 and 2–3 day
/// ranges: less than a weekly delivery round can fix), amber 3–7, green from 7.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Red,
    Amber,
    Green,
    /// Nothing held and nothing used: no risk to rank, only an item the unit does not use.
    NoDemand,
}

crate::text_enum!(Band {
    Red = "red",
    Amber = "amber",
    Green = "green",
    NoDemand = "no_demand",
});

impl Band {
    pub fn of(days_of_supply: f64) -> Band {
        if days_of_supply < 3.0 {
            Band::Red
        } else if days_of_supply < 7.0 {
            Band::Amber
        } else {
            Band::Green
        }
    }
}

/// The day range of a days-of-supply value in the NHS North-East London PPE tracker (2020): `<1`, `1-2`, `2-3`, `3-7` or `>=7`.
pub fn day_range(days_of_supply: f64) -> &'static str {
    match days_of_supply {
        d if d < 1.0 => "<1",
        d if d < 2.0 => "1-2",
        d if d < 3.0 => "2-3",
        d if d < 7.0 => "3-7",
        _ => ">=7",
    }
}

/// Demand quantiles (q10, q50, q90) of a total.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Spread {
    pub q10: f64,
    pub q50: f64,
    pub q90: f64,
}

impl Spread {
    fn from(v: &[f64]) -> Spread {
        Spread {
            q10: v[0],
            q50: v[1],
            q90: v[2],
        }
    }
}

/// The assessment of one site × item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SupplyAssessment {
    /// Mean forecast use per day over the target days.
    pub burn_rate: f64,
    /// Days until on hand + in transit is used up: q10 (pessimistic), q50, q90.
    /// Capped at the policy horizon.
    pub days_of_supply: Spread,
    /// First day stock is expected gone (median path); `None` beyond the horizon.
    pub expected_stockout_on: Option<NaiveDate>,
    /// P(stock runs out within `risk_days`).
    pub stockout_probability: f64,
    pub risk_days: u32,
    /// `stockout_within[n − 1]`: P(stock runs out within `n` days), for the first
    /// [`STOCKOUT_CURVE_DAYS`] days.
    pub stockout_within: Vec<f64>,
    pub band: Band,
    /// Order when on hand + in transit falls to this: the service-level quantile of demand
    /// over the lead time.
    pub reorder_point: i64,
    /// Service-level quantile of demand over lead time + target days.
    pub order_up_to: i64,
    /// `order_up_to − on_hand − in_transit`, rounded up to whole packs; 0 when above.
    pub suggested_order: i64,
    /// Demand over the target days.
    pub target_demand: Spread,
}

/// Days of the stockout-probability curve: four weeks, past any lead time.
pub const STOCKOUT_CURVE_DAYS: usize = 28;

/// What is known about one site × item at assessment time.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Position {
    pub on_hand: i64,
    pub in_transit: i64,
    pub lead_time_days: u32,
    pub pack_size: i64,
    /// The first forecast day (today).
    pub today: NaiveDate,
}

/// Assesses a position against a forecast, whose first point is `position.today`.
pub fn assess(fc: &SeriesForecast, position: &Position, policy: &SupplyPolicy) -> SupplyAssessment {
    let sim =
        CumulativeDemand::simulate(fc, policy.horizon_days as usize, policy.paths, policy.seed);
    assess_simulated(&sim, position, policy)
}

/// [`assess`] on demand already simulated (scenarios add their extra need to the paths).
pub fn assess_simulated(
    sim: &CumulativeDemand,
    position: &Position,
    policy: &SupplyPolicy,
) -> SupplyAssessment {
    let stock = (position.on_hand + position.in_transit).max(0) as f64;
    let lead = position.lead_time_days.max(1);
    let target = policy.target_days.max(1) as usize;
    // No demand on any path and nothing held: the unit does not use the item. It is not
    // out of anything, and it ranks after every real risk.
    let no_demand = stock <= 0.0 && sim.quantiles(lead as usize + target, &[1.0])[0] <= 0.0;
    // Without stock the unit is out now, whatever the demand paths say.
    let out = stock <= 0.0 && !no_demand;
    let dos = if out {
        Spread {
            q10: 0.0,
            q50: 0.0,
            q90: 0.0,
        }
    } else {
        Spread::from(&sim.days_of_supply_quantiles(stock, &[0.1, 0.5, 0.9]))
    };
    let horizon = policy.horizon_days as f64;
    let expected_stockout_on = (dos.q50 < horizon)
        .then(|| {
            position
                .today
                .checked_add_days(chrono::Days::new(dos.q50.floor() as u64))
        })
        .flatten();
    let level = policy.service_level.clamp(0.5, 0.999);
    let reorder_point = sim.quantiles(lead as usize, &[level])[0].ceil() as i64;
    let order_up_to = sim.quantiles(lead as usize + target, &[level])[0].ceil() as i64;
    let short = order_up_to - position.on_hand.max(0) - position.in_transit.max(0);
    let pack = position.pack_size.max(1);
    let suggested_order = if short > 0 {
        (short + pack - 1) / pack * pack
    } else {
        0
    };
    let target_demand = Spread::from(&sim.quantiles(target, &[0.1, 0.5, 0.9]));
    let stockout_within = (1..=STOCKOUT_CURVE_DAYS)
        .map(|n| {
            if out {
                1.0
            } else {
                sim.stockout_probability(stock, n)
            }
        })
        .collect();
    SupplyAssessment {
        burn_rate: sim.mean_total(target) / target as f64,
        days_of_supply: dos,
        expected_stockout_on,
        stockout_probability: if out {
            1.0
        } else {
            sim.stockout_probability(stock, lead as usize)
        },
        risk_days: lead,
        stockout_within,
        band: if no_demand {
            Band::NoDemand
        } else {
            Band::of(dos.q50)
        },
        reorder_point,
        order_up_to,
        suggested_order,
        target_demand,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forecast::{DateStep, ForecastConfig, Series, forecast_one};

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn forecast(values: Vec<Option<f64>>) -> SeriesForecast {
        let s = Series {
            id: "x".into(),
            start: d("2026-01-01"),
            step: DateStep::Day,
            values,
        };
        forecast_one(&s, &ForecastConfig::new(28, 7, &[0.1, 0.5, 0.9]))
    }

    fn position(on_hand: i64, in_transit: i64) -> Position {
        Position {
            on_hand,
            in_transit,
            lead_time_days: 2,
            pack_size: 50,
            today: d("2026-05-01"),
        }
    }

    #[test]
    fn steady_use_gives_the_flat_formula() {
        let fc = forecast(vec![Some(10.0); 120]);
        let a = assess(&fc, &position(100, 0), &SupplyPolicy::default());
        assert!((a.burn_rate - 10.0).abs() < 0.5, "{a:?}");
        // DoS = on_hand / daily_rate = 10 days.
        assert!((a.days_of_supply.q50 - 10.0).abs() < 0.6, "{a:?}");
        assert_eq!(a.band, Band::Green);
        // 100 lasts May 1–10: the 11th is the first day without stock.
        assert_eq!(a.expected_stockout_on, Some(d("2026-05-11")));
        // Lead time 2 days: 20 in demand; 14 more target days: 160, topped up from 100 in packs of 50.
        assert!((20..=22).contains(&a.reorder_point), "{a:?}");
        assert!((160..=166).contains(&a.order_up_to), "{a:?}");
        assert_eq!(a.suggested_order, 100);
        assert!(a.stockout_probability < 0.01);
    }

    #[test]
    fn stock_in_transit_counts_and_bands_follow_the_days() {
        let fc = forecast(vec![Some(10.0); 120]);
        let policy = SupplyPolicy::default();
        let low = assess(&fc, &position(15, 0), &policy);
        assert_eq!(low.band, Band::Red);
        assert!(low.stockout_probability > 0.9, "{low:?}");
        let helped = assess(&fc, &position(15, 40), &policy);
        assert_eq!(helped.band, Band::Amber);
        assert!(helped.stockout_probability < 0.05);
        assert!(helped.suggested_order <= low.suggested_order);
        // The curve rises with the days and agrees with the lead-time figure.
        let c = &helped.stockout_within;
        assert!(c.windows(2).all(|w| w[0] <= w[1]), "{c:?}");
        assert_eq!(c[1], helped.stockout_probability);
        assert!(c[0] < 0.05 && c[10] > 0.95, "{c:?}");
    }

    #[test]
    fn noisy_use_spreads_days_of_supply_in_order() {
        let values = (0..140)
            .map(|i| Some(f64::from((i * 7919 % 23) as u32)))
            .collect();
        let fc = forecast(values);
        let a = assess(&fc, &position(200, 0), &SupplyPolicy::default());
        let s = a.days_of_supply;
        assert!(s.q10 <= s.q50 && s.q50 <= s.q90 && s.q10 < s.q90, "{a:?}");
        assert!(a.target_demand.q10 < a.target_demand.q90);
        assert!(a.order_up_to >= a.reorder_point);
    }

    #[test]
    fn an_item_never_used_and_not_held_has_no_demand_and_no_risk() {
        let values = (0..120).map(|_| Some(0.0)).collect();
        let a = assess(&forecast(values), &position(0, 0), &SupplyPolicy::default());
        assert_eq!(a.band, Band::NoDemand);
        assert_eq!(a.stockout_probability, 0.0);
        assert!(a.stockout_within.iter().all(|p| *p == 0.0));
        assert_eq!(a.suggested_order, 0);
        // Held but unused: green as before.
        let held = assess(
            &forecast((0..120).map(|_| Some(0.0)).collect()),
            &position(10, 0),
            &SupplyPolicy::default(),
        );
        assert_eq!(held.band, Band::Green);
    }

    #[test]
    fn without_stock_the_unit_is_out_now_even_with_intermittent_use() {
        let values = (0..120)
            .map(|i| Some(if i % 5 == 0 { 3.0 } else { 0.0 }))
            .collect();
        let a = assess(&forecast(values), &position(0, 0), &SupplyPolicy::default());
        assert_eq!(a.stockout_probability, 1.0);
        assert_eq!(a.days_of_supply.q90, 0.0);
        assert_eq!(a.expected_stockout_on, Some(d("2026-05-01")));
        assert_eq!(a.band, Band::Red);
    }

    #[test]
    fn bands_and_ranges_match_the_thresholds() {
        assert_eq!(Band::of(2.99), Band::Red);
        assert_eq!(Band::of(3.0), Band::Amber);
        assert_eq!(Band::of(7.0), Band::Green);
        let r: Vec<&str> = [0.5, 1.0, 2.5, 6.9, 7.0].map(day_range).to_vec();
        assert_eq!(r, ["<1", "1-2", "2-3", "3-7", ">=7"]);
    }
}
