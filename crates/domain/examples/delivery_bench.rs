//! Delivery planning on a generated municipality: 200 units (nursing homes, home care, GP
//! offices, schools) around one warehouse, 12 items with real pack sizes, weights and volumes,
//! a fleet of vans, and the warehouse holding only a share of what the units need. Measures
//! the allocation (every unit × item, fair shares by tier and days of supply) and the whole
//! plan (allocation, jobs, routes), and hands the same routing jobs to VROOM for a
//! comparison costed by the project's own checker.
//!
//! `delivery_bench [--units 200] [--vans 10] [--shortage 0.5] [--time-limit 2] [--seed 1]
//! [--trips 1] [--repeat 50] [--export-vroom FILE] [--vroom-routes FILE]`
//!
//! - `--shortage 0.5`: the warehouse holds half of what the units need.
//! - `--trips 1`: trips per van (VROOM has no reloading, so comparisons use one).
//! - `--export-vroom FILE`: writes the routing jobs as a VROOM JSON problem (costs
//!   per hour, per km and per day in øre, proportional to the engine's); solve it with
//!   `bench/vroom_plan.py`.
//! - `--vroom-routes FILE`: that script's answer; its routes are costed by `routing::check`
//!   beside the project's own plan.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use ppe_domain::allocation::LotStock;
use ppe_domain::delivery::{
    PlanDepot, PlanInput, PlanItem, PlanUnit, RoutingSettings, allocate_needs, build_plan,
    routing_problem,
};
use ppe_domain::fleet::Vehicle;
use ppe_domain::replenishment::{Need, NeedReason};
use ppe_domain::routing::{self, Route};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use std::collections::BTreeMap;
use std::time::Instant;

struct Args {
    units: usize,
    vans: usize,
    shortage: f64,
    time_limit: f64,
    seed: u64,
    trips: i32,
    repeat: usize,
    export_vroom: Option<String>,
    vroom_routes: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        units: 200,
        vans: 10,
        shortage: 0.5,
        time_limit: 2.0,
        seed: 1,
        trips: 1,
        repeat: 50,
        export_vroom: None,
        vroom_routes: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let v = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--units" => a.units = v.parse().expect("--units"),
            "--vans" => a.vans = v.parse().expect("--vans"),
            "--shortage" => a.shortage = v.parse().expect("--shortage"),
            "--time-limit" => a.time_limit = v.parse().expect("--time-limit"),
            "--seed" => a.seed = v.parse().expect("--seed"),
            "--trips" => a.trips = v.parse().expect("--trips"),
            "--repeat" => a.repeat = v.parse().expect("--repeat"),
            "--export-vroom" => a.export_vroom = Some(v),
            "--vroom-routes" => a.vroom_routes = Some(v),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

/// (SKU, pack size, grams and cm³ per base unit, use per day at a mid-sized nursing home)
const ITEMS: &[(&str, i64, f64, f64, f64)] = &[
    ("MASK-IIR", 50, 3.0, 20.0, 60.0),
    ("FFP2", 20, 10.0, 60.0, 8.0),
    ("FFP3", 10, 18.0, 120.0, 2.0),
    ("GLOVE-S", 200, 3.0, 4.0, 80.0),
    ("GLOVE-M", 200, 3.5, 4.0, 140.0),
    ("GLOVE-L", 200, 4.0, 4.5, 70.0),
    ("GOWN", 10, 60.0, 400.0, 10.0),
    ("APRON", 100, 8.0, 15.0, 30.0),
    ("VISOR", 25, 45.0, 300.0, 5.0),
    ("GOGGLES", 10, 80.0, 350.0, 0.5),
    ("SANITISER", 500, 1.05, 1.0, 900.0),
    ("DISINFECTANT", 1000, 1.0, 1.0, 400.0),
];

fn t(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).expect("time")
}

/// Seeded, so every run and every machine sees the same municipality.
fn municipality(a: &Args) -> PlanInput {
    let mut rng = ChaCha8Rng::seed_from_u64(a.seed);
    let depot = PlanDepot {
        id: 0,
        code: "WH".into(),
        latitude: 59.745,
        longitude: 10.205,
    };
    let centres: Vec<(f64, f64)> = (0..6)
        .map(|_| {
            (
                depot.latitude + rng.random_range(-0.07..0.07),
                depot.longitude + rng.random_range(-0.2..0.2),
            )
        })
        .collect();
    let mut units = Vec::new();
    let mut needs = Vec::new();
    for i in 0..a.units {
        let c = centres[rng.random_range(0..centres.len())];
        let spread = if rng.random_bool(0.3) { 0.05 } else { 0.015 };
        let (tier, size, windows) = match rng.random_range(0..100) {
            0..=24 => (1u8, rng.random_range(0.5..2.0), vec![(t(8, 0), t(20, 0))]),
            25..=44 => (
                2,
                rng.random_range(0.3..1.0),
                vec![(t(7, 0), t(10, 0)), (t(14, 0), t(16, 30))],
            ),
            45..=64 => (
                3,
                rng.random_range(0.1..0.4),
                vec![(t(8, 0), t(11, 30)), (t(12, 30), t(15, 30))],
            ),
            _ => (4, rng.random_range(0.05..0.2), vec![(t(8, 0), t(15, 0))]),
        };
        let id = i as i64 + 1;
        units.push(PlanUnit {
            id,
            code: format!("U-{id:03}"),
            name: format!("Unit {id}"),
            address: None,
            latitude: c.0 + rng.random_range(-spread..spread),
            longitude: c.1 + 2.0 * rng.random_range(-spread..spread),
            tier,
            windows: Some(windows),
        });
        for (k, &(_, pack, _, _, use_per_day)) in ITEMS.iter().enumerate() {
            let burn = use_per_day * size * rng.random_range(0.5..1.5);
            let position = (burn * rng.random_range(0.0..6.0)) as i64;
            // Order up to 14 days of use, in whole packs.
            let target = (burn * 14.0) as i64;
            let need = ((target - position).max(0) + pack - 1) / pack * pack;
            if need > 0 {
                needs.push(Need {
                    site: id,
                    item: k as i64,
                    tier,
                    pack_size: pack,
                    need,
                    reason: NeedReason::Forecast,
                    from_forecast: need,
                    from_requests: 0,
                    urgent: false,
                    position,
                    burn_rate: burn,
                    days_before: Some(position as f64 / burn),
                    stockout_probability_before: None,
                });
            }
        }
    }
    let mut stock = BTreeMap::new();
    for (k, &(_, pack, ..)) in ITEMS.iter().enumerate() {
        let total: i64 = needs
            .iter()
            .filter(|n| n.item == k as i64)
            .map(|n| n.need)
            .sum();
        let held = (total as f64 * a.shortage) as i64 / pack * pack;
        stock.insert(
            k as i64,
            vec![LotStock {
                lot: format!("L{k}"),
                expires_on: NaiveDate::from_ymd_opt(2030, 1, 1),
                quantity: held,
            }],
        );
    }
    let vehicles = (0..a.vans)
        .map(|v| Vehicle {
            id: v as i64,
            code: format!("VAN-{}", v + 1),
            name: format!("Van {}", v + 1),
            depot: "WH".into(),
            capacity_kg: if v % 3 == 2 { 1500.0 } else { 1100.0 },
            capacity_litres: if v % 3 == 2 { 14_000.0 } else { 10_000.0 },
            capacity_pallets: None,
            shift_start: "07:00".into(),
            shift_end: "16:00".into(),
            max_driving_minutes: None,
            cost_per_km: 4.5,
            cost_per_hour: 450.0,
            fixed_cost_per_day: 250.0,
            max_trips: a.trips,
            active: true,
            created_at: DateTime::<Utc>::UNIX_EPOCH,
        })
        .collect();
    PlanInput {
        date: NaiveDate::from_ymd_opt(2026, 12, 3).expect("date"),
        day_start: DateTime::<Utc>::UNIX_EPOCH,
        depot,
        units,
        items: ITEMS
            .iter()
            .enumerate()
            .map(|(k, &(sku, pack, g, cm3, _))| PlanItem {
                id: k as i64,
                sku: sku.into(),
                pack_size: pack,
                weight_g: Some(g),
                volume_cm3: Some(cm3),
            })
            .collect(),
        vehicles,
        needs,
        stock,
        overrides: Vec::new(),
        min_shelf_days: 30,
        routing: RoutingSettings {
            time_limit: a.time_limit,
            ..RoutingSettings::default()
        },
    }
}

/// The engine's money unit is the micro-NOK; VROOM gets øre.
const MICRO_PER_ORE: i64 = 10_000;

/// The routing problem as a VROOM JSON input (matrices by index, costs in øre).
fn vroom_json(p: &routing::Problem) -> serde_json::Value {
    let n = p.matrix.n;
    let rows = |v: &[i64]| -> Vec<Vec<i64>> { v.chunks(n).map(<[i64]>::to_vec).collect() };
    let vehicles: Vec<_> = p
        .vehicles
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let mut o = json!({
                "id": i,
                "start_index": v.start_location,
                "end_index": v.end_location,
                "capacity": v.capacity,
                "time_window": [v.shift.start, v.shift.end],
                // In øre: VROOM's costs are 32-bit, and a day in micro-NOK overflows them.
                "costs": {"fixed": v.fixed_cost / MICRO_PER_ORE,
                          "per_hour": v.cost_per_time * 3600 / MICRO_PER_ORE,
                          "per_km": v.cost_per_distance * 1000 / MICRO_PER_ORE},
            });
            if let Some(d) = v.max_duration {
                o["max_travel_time"] = json!(d);
            }
            o
        })
        .collect();
    let top = p
        .jobs
        .iter()
        .map(|j| j.unserved_penalty)
        .max()
        .unwrap_or(1)
        .max(1);
    let jobs: Vec<_> = p
        .jobs
        .iter()
        .enumerate()
        .map(|(k, j)| {
            json!({
                "id": k + 1,
                "location_index": j.location,
                "delivery": j.demand,
                "service": j.service,
                "time_windows": j.windows.iter().map(|w| [w.start, w.end]).collect::<Vec<_>>(),
                "priority": (100 * j.unserved_penalty / top).min(100),
            })
        })
        .collect();
    json!({
        "vehicles": vehicles,
        "jobs": jobs,
        "matrices": {"car": {"durations": rows(&p.matrix.time), "distances": rows(&p.matrix.distance)}},
    })
}

fn main() {
    let a = args();
    let input = municipality(&a);
    let lines = input.needs.len();
    let asked: i64 = input.needs.iter().map(|n| n.need).sum();

    // Allocation alone, repeated: every unit × item of the municipality.
    let mut times = Vec::new();
    let mut given = 0;
    for _ in 0..a.repeat.max(1) {
        let t0 = Instant::now();
        let rows = allocate_needs(&input).expect("allocation");
        times.push(t0.elapsed().as_secs_f64() * 1e3);
        given = rows.iter().map(|r| r.1).sum::<i64>();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "allocation: {lines} unit × item lines, {asked} asked, {given} allocated ({:.0} %): median {:.2} ms, max {:.2} ms over {} runs",
        100.0 * given as f64 / asked.max(1) as f64,
        times[times.len() / 2],
        times[times.len() - 1],
        times.len()
    );

    let problem = routing_problem(&input).expect("problem");
    let t0 = Instant::now();
    let clock = move || t0.elapsed().as_secs_f64();
    let plan = build_plan(&input, &clock).expect("plan");
    let elapsed = t0.elapsed().as_secs_f64();
    println!(
        "plan: {} jobs, {} vans: cost {:.2} NOK, {:.1} km, {} units served, {} left, {:.2} s (search {:.2} s)",
        problem.jobs.len(),
        problem.vehicles.len(),
        plan.totals.cost,
        plan.totals.distance_km,
        plan.totals.units_served,
        plan.totals.units_unserved,
        elapsed,
        plan.solve_seconds
    );

    if let Some(path) = &a.export_vroom {
        std::fs::write(path, vroom_json(&problem).to_string()).expect("write VROOM problem");
        println!("VROOM problem written to {path}");
    }
    if let Some(path) = &a.vroom_routes {
        let text = std::fs::read_to_string(path).expect("read VROOM routes");
        let v: serde_json::Value = serde_json::from_str(&text).expect("VROOM routes JSON");
        let ids = |x: &serde_json::Value| -> Vec<usize> {
            x.as_array()
                .expect("array")
                .iter()
                .map(|j| j.as_u64().expect("id") as usize - 1)
                .collect()
        };
        let routes: Vec<Route> = v["routes"]
            .as_array()
            .expect("routes")
            .iter()
            .zip(v["vehicles"].as_array().expect("vehicles"))
            .map(|(r, veh)| Route {
                vehicle: veh.as_u64().expect("vehicle") as usize,
                trips: vec![ids(r)],
            })
            .collect();
        let unassigned = ids(&v["unassigned"]);
        match routing::check(&problem, &routes, &unassigned) {
            Ok(ev) => {
                let travel: i64 = ev.schedules.iter().map(|s| s.cost).sum();
                let vroom_nok = travel as f64 / 1e6;
                println!(
                    "VROOM: cost {:.2} NOK, {:.1} km, {} jobs left ({:.2} s); project {:+.2} % against it",
                    vroom_nok,
                    ev.distance as f64 / 1000.0,
                    unassigned.len(),
                    v["seconds"].as_f64().unwrap_or(0.0),
                    100.0 * (plan.totals.cost - vroom_nok) / vroom_nok
                );
            }
            Err(e) => println!("VROOM's routes break a constraint: {e:?}"),
        }
    }
}
