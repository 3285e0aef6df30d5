//! Plans built from small hand-made inputs: what is routed, what is left and why.

use super::*;
use crate::allocation::{AllocationReason, LotStock};
use crate::fleet::Vehicle;
use crate::replenishment::{Need, NeedReason};
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use std::collections::BTreeMap;

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

fn unit(
    id: i64,
    code: &str,
    lat: f64,
    tier: u8,
    windows: Option<Vec<(NaiveTime, NaiveTime)>>,
) -> PlanUnit {
    PlanUnit {
        id,
        code: code.into(),
        name: format!("Unit {code}"),
        address: None,
        latitude: lat,
        longitude: 10.2,
        tier,
        windows,
    }
}

fn van(code: &str, kg: f64) -> Vehicle {
    Vehicle {
        id: 1,
        code: code.into(),
        name: code.into(),
        depot: "WH".into(),
        capacity_kg: kg,
        capacity_litres: 5000.0,
        capacity_pallets: None,
        shift_start: "08:00".into(),
        shift_end: "16:00".into(),
        max_driving_minutes: None,
        cost_per_km: 4.5,
        cost_per_hour: 450.0,
        fixed_cost_per_day: 250.0,
        max_trips: 1,
        active: true,
        created_at: DateTime::UNIX_EPOCH,
    }
}

fn need(site: i64, tier: u8, q: i64, burn: f64) -> Need {
    Need {
        site,
        item: 7,
        tier,
        pack_size: 10,
        need: q,
        reason: NeedReason::Forecast,
        from_forecast: q,
        from_requests: 0,
        urgent: false,
        position: 10,
        burn_rate: burn,
        days_before: Some(10.0 / burn),
        stockout_probability_before: Some(0.5),
    }
}

fn input() -> PlanInput {
    let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
    let all_day = Some(vec![(t(8, 0), t(15, 0))]);
    PlanInput {
        date: day,
        day_start: "2026-12-02T23:00:00Z".parse::<DateTime<Utc>>().unwrap(),
        depot: PlanDepot {
            id: 100,
            code: "WH".into(),
            latitude: 59.73,
            longitude: 10.22,
        },
        units: vec![
            unit(1, "NH-01", 59.74, 1, all_day.clone()),
            unit(2, "NH-02", 59.75, 2, all_day.clone()),
            unit(3, "SCH-01", 59.76, 3, None),
            unit(4, "NH-03", 59.77, 2, Some(vec![(t(9, 0), t(10, 0))])),
        ],
        items: vec![PlanItem {
            id: 7,
            sku: "FFP2".into(),
            pack_size: 10,
            weight_g: Some(10.0),
            volume_cm3: Some(60.0),
        }],
        vehicles: vec![van("VAN-1", 500.0)],
        needs: vec![
            need(1, 1, 100, 10.0),
            need(2, 2, 100, 10.0),
            need(3, 3, 100, 10.0),
            need(4, 2, 100, 10.0),
        ],
        stock: BTreeMap::from([(
            7,
            vec![
                LotStock {
                    lot: "OLD".into(),
                    expires_on: NaiveDate::from_ymd_opt(2026, 12, 20),
                    quantity: 1000,
                },
                LotStock {
                    lot: "A".into(),
                    expires_on: NaiveDate::from_ymd_opt(2027, 6, 1),
                    quantity: 150,
                },
                LotStock {
                    lot: "B".into(),
                    expires_on: NaiveDate::from_ymd_opt(2028, 6, 1),
                    quantity: 1000,
                },
            ],
        )]),
        overrides: Vec::new(),
        min_shelf_days: 30,
        routing: RoutingSettings {
            time_limit: 0.0,
            ..RoutingSettings::default()
        },
    }
}

fn plan(input: &PlanInput) -> DeliveryPlan {
    let mut i = input.clone();
    i.routing.time_limit = 1.0;
    // A clock past the budget: the first (greedy) plan, deterministic.
    build_plan(&i, &|| 10.0).unwrap()
}

#[test]
fn open_units_are_routed_within_windows_and_lots_that_expire_too_soon_stay() {
    let p = plan(&input());
    let routed: Vec<&str> = p
        .routes
        .iter()
        .flat_map(|r| r.trips.iter().flat_map(|t| &t.stops))
        .map(|s| s.site.as_str())
        .collect();
    assert!(
        routed.contains(&"NH-01") && routed.contains(&"NH-02"),
        "{routed:?}"
    );
    // The school is closed on the day.
    let closed: Vec<_> = p
        .unassigned
        .iter()
        .filter(|u| u.reason == UnservedReason::ClosedOnDate)
        .map(|u| u.site.as_str())
        .collect();
    assert_eq!(closed, ["SCH-01"]);
    for r in &p.routes {
        for trip in &r.trips {
            assert!(trip.load_kg <= 500.0);
            for s in &trip.stops {
                let (o, c) = if s.site == "NH-03" {
                    ("09:00", "10:00")
                } else {
                    ("08:00", "15:00")
                };
                assert!(
                    s.eta_local.as_str() >= o && s.eta_local.as_str() <= c,
                    "{s:?}"
                );
            }
        }
    }
    // Lot OLD expires within 30 days of the delivery: never picked. A before B.
    for l in &p.lines {
        assert!(l.lots.iter().all(|x| x.lot != "OLD"), "{l:?}");
        assert_eq!(l.lots.iter().map(|x| x.quantity).sum::<i64>(), l.allocated);
    }
    let a: i64 = p
        .lines
        .iter()
        .flat_map(|l| &l.lots)
        .filter(|x| x.lot == "A")
        .map(|x| x.quantity)
        .sum();
    assert_eq!(a, 150);
    // 1150 usable for 400 asked: everyone in full.
    assert!(p.lines.iter().all(|l| l.allocated == 100));
    assert_eq!(
        p.totals.stock_delivered,
        p.lines
            .iter()
            .filter(|l| l.routed)
            .map(|l| l.allocated)
            .sum::<i64>()
    );
}

#[test]
fn shortage_goes_to_the_first_tier_and_dispatches_name_routed_lots_only() {
    let mut i = input();
    i.stock.get_mut(&7).unwrap().retain(|l| l.lot == "A");
    let p = plan(&i);
    let by_site: BTreeMap<&str, &PlanLine> = p.lines.iter().map(|l| (l.site.as_str(), l)).collect();
    assert_eq!(by_site["NH-01"].allocated, 100);
    assert_eq!(by_site["NH-01"].reason, AllocationReason::Full);
    // Tier 2 shares the 50 left, pack by pack to the fewer days (ties to the lower id).
    let tier2: i64 = ["NH-02", "NH-03"]
        .iter()
        .map(|s| by_site[s].allocated)
        .sum();
    assert_eq!(tier2, 50);
    assert!(
        ["NH-02", "NH-03"]
            .iter()
            .all(|s| by_site[s].allocated % 10 == 0)
    );
    assert_eq!(by_site["SCH-01"].allocated, 0);
    let shipped: i64 = p
        .dispatches()
        .iter()
        .flat_map(|d| &d.lines)
        .map(|(_, _, q)| q)
        .sum();
    assert_eq!(shipped, p.totals.stock_delivered);
    assert!(p.dispatches().iter().all(|d| d.site != "SCH-01"));
}

#[test]
fn a_load_larger_than_any_van_is_left_with_its_reason() {
    let mut i = input();
    i.vehicles = vec![van("VAN-S", 0.5)];
    let p = plan(&i);
    assert!(p.routes.is_empty());
    assert!(
        p.unassigned
            .iter()
            .filter(|u| u.site != "SCH-01")
            .all(|u| u.reason == UnservedReason::ExceedsVehicleCapacity)
    );
}

#[test]
fn missing_weights_overrides_and_fleets_are_named() {
    let mut i = input();
    i.items[0].weight_g = None;
    i.vehicles.clear();
    i.overrides = vec![Override {
        site: "NH-09".into(),
        item: "FFP2".into(),
        quantity: 10,
    }];
    let fields: Vec<String> = build_plan(&i, &|| 0.0)
        .unwrap_err()
        .0
        .into_iter()
        .map(|e| e.field)
        .collect();
    assert_eq!(
        fields,
        ["vehicles", "overrides[0].site", "items[FFP2].weight_g"]
    );
}

#[test]
fn an_override_is_kept_and_reported_beside_the_fair_share() {
    let mut i = input();
    i.stock.get_mut(&7).unwrap().retain(|l| l.lot == "A");
    i.overrides = vec![Override {
        site: "NH-02".into(),
        item: "FFP2".into(),
        quantity: 100,
    }];
    let p = plan(&i);
    let nh02 = p.lines.iter().find(|l| l.site == "NH-02").unwrap();
    assert_eq!(nh02.allocated, 100);
    assert_eq!(nh02.overridden_from, Some(30));
    // The rest (50) is shared by the others, tier 1 first.
    let nh01 = p.lines.iter().find(|l| l.site == "NH-01").unwrap();
    assert_eq!(nh01.allocated, 50);
    assert_eq!(p.lines.iter().map(|l| l.allocated).sum::<i64>(), 150);
}

#[test]
fn plan_states_allow_only_what_the_life_of_a_plan_allows() {
    assert!(PlanStatus::Planned.is_open());
    for s in [
        PlanStatus::Dispatched,
        PlanStatus::Completed,
        PlanStatus::Cancelled,
        PlanStatus::Superseded,
    ] {
        assert!(!s.is_open() && !s.holds_stock(), "{s}");
    }
}

#[test]
fn a_planners_lines_are_needs_in_whole_packs_in_the_units_tier() {
    let tiers = std::collections::HashMap::from([(1, 1u8)]);
    let packs = BTreeMap::from([(7, 20)]);
    let n = explicit_needs(&[(1, 7, 30), (2, 7, 40)], &[], &tiers, &packs);
    assert_eq!(
        n.iter().map(|x| (x.need, x.tier)).collect::<Vec<_>>(),
        [(40, 1), (40, 3)]
    );
    assert!(n.iter().all(|x| x.reason == NeedReason::Planner));
}
