//! Building a plan: allocation, jobs, routes, the document.

use super::document::{
    DeliveryPlan, PlanLine, PlanRoute, PlanStatus, PlanStop, PlanTotals, PlanTrip, UnassignedStop,
    UnservedReason,
};
use crate::allocation::{self, AllocationReason, LotStock, NeedLine};
use crate::fleet::{Vehicle, clock_time, seconds_of_day};
use crate::replenishment::{Need, NeedReason, PairPosition};
use crate::routing::{self, Job, SolveOptions, StopKind, TimeWindow, travel};
use crate::validation::Violations;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// The warehouse a plan loads at.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanDepot {
    pub id: i64,
    pub code: String,
    pub latitude: f64,
    pub longitude: f64,
}

/// A unit that may get a delivery, with its opening windows on the plan's date.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanUnit {
    pub id: i64,
    pub code: String,
    pub name: String,
    pub address: Option<String>,
    pub latitude: f64,
    pub longitude: f64,
    pub tier: u8,
    /// Local windows on the date; `None`: closed that day.
    pub windows: Option<Vec<(NaiveTime, NaiveTime)>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlanItem {
    pub id: i64,
    pub sku: String,
    pub pack_size: i64,
    pub weight_g: Option<f64>,
    pub volume_cm3: Option<f64>,
}

/// A planner's quantity for one line, replacing what allocation gives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Override {
    /// Unit code.
    pub site: String,
    /// Item SKU.
    pub item: String,
    /// Base units to send (0 sends none).
    pub quantity: i64,
}

/// How routes are searched and timed.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingSettings {
    /// Seconds of route search.
    pub time_limit: f64,
    pub seed: u64,
    /// Road distance over straight-line distance (≈ 1.3 in a Norwegian suburb).
    pub road_factor: f64,
    pub speed_kmh: f64,
    /// Minutes at the depot between two trips.
    pub reload_minutes: i64,
    /// Minutes at a stop: a fixed part and one per line delivered.
    pub service_base_minutes: i64,
    pub service_per_line_minutes: i64,
}

impl Default for RoutingSettings {
    fn default() -> Self {
        RoutingSettings {
            time_limit: 2.0,
            seed: 1,
            road_factor: 1.3,
            speed_kmh: 40.0,
            reload_minutes: 20,
            service_base_minutes: 5,
            service_per_line_minutes: 1,
        }
    }
}

/// Everything a plan is made from, loaded by the caller.
#[derive(Debug, Clone)]
pub struct PlanInput {
    pub date: NaiveDate,
    /// The local midnight starting `date`, in UTC (times of day count from it).
    pub day_start: DateTime<Utc>,
    pub depot: PlanDepot,
    pub units: Vec<PlanUnit>,
    pub items: Vec<PlanItem>,
    pub vehicles: Vec<Vehicle>,
    pub needs: Vec<Need>,
    /// The depot's lots per item id, less what open plans hold.
    pub stock: BTreeMap<i64, Vec<LotStock>>,
    pub overrides: Vec<Override>,
    /// A lot must keep at least this many days of shelf life after the delivery date.
    pub min_shelf_days: i64,
    pub routing: RoutingSettings,
}

/// Money in the engine's integer units: micro-NOK, so costs per metre and per second stay
/// exact enough while every route cost fits an i64 many times over.
const MICRO: f64 = 1e6;
/// What leaving a stop unserved costs per tier step: above any day's driving (10^6 NOK),
/// so a stop is dropped only when it cannot be served; tier 1 costs four steps, tier 4 one.
const UNSERVED_STEP: i64 = 1_000_000_000_000;

/// Needs from a planner's explicit lines instead of the proposal: each line's quantity,
/// rounded up to whole packs like every need (the warehouse ships packs, and whole packs
/// keep allocation monotone: more stock never gives a unit less), in the unit's tier, with
/// its position when supply status knows it.
pub fn explicit_needs(
    lines: &[(i64, i64, i64)],
    positions: &[PairPosition],
    tiers: &HashMap<i64, u8>,
    pack_sizes: &BTreeMap<i64, i64>,
) -> Vec<Need> {
    lines
        .iter()
        .map(|&(site, item, quantity)| {
            let pos = positions.iter().find(|p| p.site == site && p.item == item);
            let pack = pack_sizes.get(&item).copied().unwrap_or(1).max(1);
            Need {
                site,
                item,
                tier: tiers.get(&site).copied().unwrap_or(3),
                pack_size: pack,
                need: (quantity.max(0) + pack - 1) / pack * pack,
                reason: NeedReason::Planner,
                from_forecast: 0,
                from_requests: 0,
                urgent: false,
                position: pos.map_or(0, |p| p.on_hand + p.in_transit),
                burn_rate: pos.map_or(0.0, |p| p.burn_rate.max(0.0)),
                days_before: pos.filter(|p| p.burn_rate > 0.0).map(|p| p.days_of_supply),
                stockout_probability_before: pos.map(|p| p.stockout_probability),
            }
        })
        .collect()
}

fn need_line(n: &Need) -> NeedLine {
    NeedLine {
        unit: n.site,
        tier: n.tier,
        need: n.need,
        position: n.position,
        burn_rate: n.burn_rate,
        pack_size: n.pack_size,
    }
}

struct Allocated {
    need: Need,
    allocated: i64,
    reason: AllocationReason,
    overridden_from: Option<i64>,
    lots: Vec<allocation::LotPick>,
}

/// Allocates each item's usable depot stock to its needs; overrides take their quantity
/// first and the rest is shared by the allocation rules.
fn allocate_all(input: &PlanInput, v: &mut Violations) -> Vec<Allocated> {
    let usable_from = input.date + Duration::days(input.min_shelf_days);
    let units: HashMap<&str, i64> = input
        .units
        .iter()
        .map(|u| (u.code.as_str(), u.id))
        .collect();
    let items: HashMap<&str, i64> = input.items.iter().map(|i| (i.sku.as_str(), i.id)).collect();
    let mut overrides: HashMap<(i64, i64), (usize, i64)> = HashMap::new();
    for (i, o) in input.overrides.iter().enumerate() {
        let site = units.get(o.site.trim()).copied();
        let item = items.get(o.item.trim()).copied();
        if site.is_none() {
            v.add(format!("overrides[{i}].site"), "is not an active unit");
        }
        if item.is_none() {
            v.add(format!("overrides[{i}].item"), "is not an active item");
        }
        if !(0..=crate::stock::MAX_LINE_QUANTITY).contains(&o.quantity) {
            v.add(
                format!("overrides[{i}].quantity"),
                "must be between 0 and 1000000000",
            );
        }
        if let (Some(s), Some(it)) = (site, item)
            && overrides.insert((s, it), (i, o.quantity)).is_some()
        {
            v.add(format!("overrides[{i}]"), "names the same line twice");
        }
    }
    let mut by_item: BTreeMap<i64, Vec<Need>> = BTreeMap::new();
    for n in &input.needs {
        by_item.entry(n.item).or_default().push(n.clone());
    }
    // An override of a line nobody proposed adds the line.
    for (&(site, item), &(_, q)) in &overrides {
        let lines = by_item.entry(item).or_default();
        if !lines.iter().any(|n| n.site == site) {
            let pack = input
                .items
                .iter()
                .find(|i| i.id == item)
                .map_or(1, |i| i.pack_size);
            let tier = input
                .units
                .iter()
                .find(|u| u.id == site)
                .map_or(3, |u| u.tier);
            lines.push(Need {
                site,
                item,
                tier,
                pack_size: pack,
                need: q,
                reason: NeedReason::Planner,
                from_forecast: 0,
                from_requests: 0,
                urgent: false,
                position: 0,
                burn_rate: 0.0,
                days_before: None,
                stockout_probability_before: None,
            });
        }
    }
    let mut out = Vec::new();
    for (item, needs) in by_item {
        let lots = input.stock.get(&item).cloned().unwrap_or_default();
        let (usable, available) = allocation::usable_lots(&lots, usable_from);
        let fixed_lines = needs
            .iter()
            .filter(|n| overrides.contains_key(&(n.site, n.item)))
            .count();
        let fixed: i64 = needs
            .iter()
            .filter_map(|n| overrides.get(&(n.site, n.item)).map(|o| o.1))
            .sum();
        if fixed > available {
            for n in &needs {
                if let Some(&(i, _)) = overrides.get(&(n.site, n.item)) {
                    v.add(
                        format!("overrides[{i}].quantity"),
                        format!(
                            "the overrides of this item ask {fixed}, more than the {available} usable at the depot"
                        ),
                    );
                }
            }
            continue;
        }
        let shared: Vec<&Need> = needs
            .iter()
            .filter(|n| !overrides.contains_key(&(n.site, n.item)))
            .collect();
        let lines: Vec<NeedLine> = shared.iter().map(|n| need_line(n)).collect();
        let given = allocation::allocate(&lines, available - fixed);
        // What allocation alone would have given each line, for overridden lines' report.
        let alone = (fixed_lines > 0).then(|| {
            let all: Vec<NeedLine> = needs.iter().map(need_line).collect();
            allocation::allocate(&all, available)
        });
        let mut rows: Vec<Allocated> = Vec::new();
        for (k, n) in needs.iter().enumerate() {
            if let Some(&(_, q)) = overrides.get(&(n.site, n.item)) {
                let from = alone.as_ref().map_or(0, |a| a[k].allocated);
                rows.push(Allocated {
                    need: n.clone(),
                    allocated: q,
                    reason: if q >= n.need {
                        AllocationReason::Full
                    } else {
                        AllocationReason::FairShare {
                            days: n.days_with(q).map_or(0.0, |d| (d * 10.0).round() / 10.0),
                        }
                    },
                    overridden_from: Some(from),
                    lots: Vec::new(),
                });
            }
        }
        for (n, a) in shared.iter().zip(given) {
            rows.push(Allocated {
                need: (*n).clone(),
                allocated: a.allocated,
                reason: a.reason,
                overridden_from: None,
                lots: Vec::new(),
            });
        }
        let picks = allocation::pick_lots(
            &rows
                .iter()
                .map(|r| (r.need.site, r.need.burn_rate, r.allocated))
                .collect::<Vec<_>>(),
            &usable,
        );
        for (r, p) in rows.iter_mut().zip(picks) {
            r.lots = p;
        }
        out.extend(rows);
    }
    out.sort_by_key(|r| (r.need.site, r.need.item));
    out
}

/// What allocation gives each need of the input (overrides applied), without routing:
/// the proposal's preview of fair shares.
pub fn allocate_needs(input: &PlanInput) -> Result<Vec<(Need, i64, AllocationReason)>, Violations> {
    let mut v = Violations::default();
    let rows = allocate_all(input, &mut v);
    v.finish()?;
    Ok(rows
        .into_iter()
        .map(|r| (r.need, r.allocated, r.reason))
        .collect())
}

/// One routing job: a unit and its load.
struct Stop {
    unit: usize,
    grams: i64,
    cm3: i64,
    lines: usize,
}

fn money(nok: f64) -> i64 {
    (nok * MICRO).round() as i64
}

/// A plan before its routes: the allocation, the stops, the routing problem of the
/// routable ones (job `k` is `routable[k]`, location `k + 1`; the depot is location 0).
struct Prepared {
    allocated: Vec<Allocated>,
    stops: BTreeMap<usize, Stop>,
    /// Keys of `stops` in job order.
    routable: Vec<usize>,
    unassigned: Vec<UnassignedStop>,
    problem: routing::Problem,
}

/// The routing problem a plan of `input` solves: one job per unit with stock allocated
/// (weight in grams and volume in cm³, service time, opening windows on the day, an
/// unserved penalty by tier), one vehicle per van (capacities, shift, driving limit,
/// trips, costs in micro-NOK), travel by haversine × road factor at an average speed.
/// For benchmarks that hand the same jobs to another solver.
pub fn routing_problem(input: &PlanInput) -> Result<routing::Problem, Violations> {
    prepare(input).map(|p| p.problem)
}

fn prepare(input: &PlanInput) -> Result<Prepared, Violations> {
    let mut v = Violations::default();
    if input.vehicles.is_empty() {
        v.add(
            "vehicles",
            format!("no active vehicle is based at {}", input.depot.code),
        );
    }
    for (i, veh) in input.vehicles.iter().enumerate() {
        if veh.depot != input.depot.code {
            v.add(
                format!("vehicles[{i}]"),
                format!(
                    "{} is based at {}, not at the plan's depot",
                    veh.code, veh.depot
                ),
            );
        }
        if !veh.active {
            v.add(
                format!("vehicles[{i}]"),
                format!("{} is inactive", veh.code),
            );
        }
    }
    let allocated = allocate_all(input, &mut v);
    let items: HashMap<i64, &PlanItem> = input.items.iter().map(|i| (i.id, i)).collect();
    for sku in allocated
        .iter()
        .filter(|a| a.allocated > 0)
        .filter_map(|a| items.get(&a.need.item))
        .filter(|i| i.weight_g.is_none() || i.volume_cm3.is_none())
        .map(|i| i.sku.as_str())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let it = input.items.iter().find(|i| i.sku == sku);
        for (f, missing) in [
            ("weight_g", it.is_some_and(|i| i.weight_g.is_none())),
            ("volume_cm3", it.is_some_and(|i| i.volume_cm3.is_none())),
        ] {
            if missing {
                v.add(
                    format!("items[{sku}].{f}"),
                    "is needed to load vehicles: set it on the item",
                );
            }
        }
    }
    v.finish()?;

    let unit_index: HashMap<i64, usize> = input
        .units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id, i))
        .collect();
    let mut stops: BTreeMap<usize, Stop> = BTreeMap::new();
    for a in allocated.iter().filter(|a| a.allocated > 0) {
        let Some(&u) = unit_index.get(&a.need.site) else {
            continue;
        };
        let it = items[&a.need.item];
        let s = stops.entry(u).or_insert(Stop {
            unit: u,
            grams: 0,
            cm3: 0,
            lines: 0,
        });
        s.grams += (a.allocated as f64 * it.weight_g.unwrap_or(0.0)).ceil() as i64;
        s.cm3 += (a.allocated as f64 * it.volume_cm3.unwrap_or(0.0)).ceil() as i64;
        s.lines += 1;
    }

    // A stop fits when one van carries both its weight and its volume.
    let fits = |s: &Stop| {
        input.vehicles.iter().any(|x| {
            s.grams <= (x.capacity_kg * 1000.0) as i64
                && s.cm3 <= (x.capacity_litres * 1000.0) as i64
        })
    };
    let mut unassigned: Vec<UnassignedStop> = Vec::new();
    let mut routable_keys: Vec<usize> = Vec::new();
    for (&key, s) in &stops {
        let u = &input.units[s.unit];
        let reason = if u.windows.is_none() {
            Some(UnservedReason::ClosedOnDate)
        } else if !fits(s) {
            Some(UnservedReason::ExceedsVehicleCapacity)
        } else {
            None
        };
        match reason {
            Some(reason) => unassigned.push(unassigned_stop(u, s, reason)),
            None => routable_keys.push(key),
        }
    }
    let routable: Vec<&Stop> = routable_keys.iter().map(|k| &stops[k]).collect();

    // Locations: the depot, then each routable stop.
    let mut points = vec![travel::LatLon {
        lat: input.depot.latitude,
        lon: input.depot.longitude,
    }];
    points.extend(routable.iter().map(|s| {
        let u = &input.units[s.unit];
        travel::LatLon {
            lat: u.latitude,
            lon: u.longitude,
        }
    }));
    let rs = &input.routing;
    let matrix = travel::from_lat_lon(&points, rs.road_factor, rs.speed_kmh);
    let jobs: Vec<Job> = routable
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let u = &input.units[s.unit];
            let mut job = Job::new(k + 1, vec![s.grams, s.cm3]);
            job.service =
                60 * (rs.service_base_minutes + rs.service_per_line_minutes * s.lines as i64);
            job.windows = u
                .windows
                .iter()
                .flatten()
                .map(|(o, c)| TimeWindow::new(seconds_of_day(*o), seconds_of_day(*c)))
                .collect();
            job.unserved_penalty = UNSERVED_STEP * i64::from(5 - u.tier.clamp(1, 4));
            job
        })
        .collect();
    let vehicles: Vec<routing::Vehicle> = input
        .vehicles
        .iter()
        .map(|x| {
            let mut veh = routing::Vehicle::new(
                0,
                vec![
                    (x.capacity_kg * 1000.0) as i64,
                    (x.capacity_litres * 1000.0) as i64,
                ],
            );
            let start = clock_time(&x.shift_start).map_or(0, seconds_of_day);
            let end = clock_time(&x.shift_end).map_or(86_400, seconds_of_day);
            veh.shift = TimeWindow::new(start, end);
            veh.max_duration = x.max_driving_minutes.map(|m| i64::from(m) * 60);
            veh.max_trips = x.max_trips.clamp(1, 4) as u32;
            veh.reload_time = rs.reload_minutes * 60;
            veh.fixed_cost = money(x.fixed_cost_per_day);
            veh.cost_per_distance = money(x.cost_per_km / 1000.0);
            veh.cost_per_time = money(x.cost_per_hour / 3600.0);
            if veh.cost_per_distance == 0 && veh.cost_per_time == 0 {
                // Free vehicles still prefer short routes.
                veh.cost_per_distance = 1;
            }
            veh
        })
        .collect();
    let problem = routing::Problem {
        dimensions: 2,
        jobs,
        vehicles,
        matrix,
    };
    Ok(Prepared {
        allocated,
        stops,
        routable: routable_keys,
        unassigned,
        problem,
    })
}

/// Builds the plan (without id, version or status history: the caller stores it).
/// Refusals name the field: the fleet, an override, an item without weight or volume.
pub fn build_plan(
    input: &PlanInput,
    clock: &(dyn Fn() -> f64 + Sync),
) -> Result<DeliveryPlan, Violations> {
    let Prepared {
        allocated,
        stops,
        routable,
        mut unassigned,
        problem,
    } = prepare(input)?;
    let routable: Vec<&Stop> = routable.iter().map(|k| &stops[k]).collect();
    let items: HashMap<i64, &PlanItem> = input.items.iter().map(|i| (i.id, i)).collect();
    let rs = &input.routing;
    let options = SolveOptions {
        time_limit: Some(rs.time_limit),
        max_iterations: None,
        seed: rs.seed,
        threads: 1,
        ..SolveOptions::default()
    };
    let sol = routing::solve(&problem, &options, clock)
        .map_err(|e| Violations::single("vehicles", e.to_string()))?;

    let at = |secs: i64| input.day_start + Duration::seconds(secs);
    let hhmm = |secs: i64| format!("{:02}:{:02}", secs / 3600, (secs % 3600) / 60);
    let mut routes = Vec::new();
    let mut routed_units = std::collections::BTreeSet::new();
    for sched in &sol.schedules {
        let veh = &input.vehicles[sched.vehicle];
        let mut trips: Vec<PlanTrip> = Vec::new();
        let mut order = 0;
        let mut driving = 0i64;
        let mut prev = None::<usize>;
        for st in &sched.stops {
            if let Some(p) = prev {
                driving += problem.matrix.time(p, st.location);
            }
            prev = Some(st.location);
            match st.kind {
                StopKind::Start | StopKind::Reload => trips.push(PlanTrip {
                    number: trips.len() + 1,
                    stops: Vec::new(),
                    load_kg: st.load_after[0] as f64 / 1000.0,
                    load_litres: st.load_after[1] as f64 / 1000.0,
                    departure: at(st.departure),
                    return_at: at(st.departure),
                }),
                StopKind::Job(j) => {
                    let s = routable[j];
                    let u = &input.units[s.unit];
                    routed_units.insert(u.id);
                    order += 1;
                    let window = u.windows.iter().flatten().find(|(o, c)| {
                        (seconds_of_day(*o)..=seconds_of_day(*c)).contains(&st.start)
                    });
                    if let Some(t) = trips.last_mut() {
                        t.stops.push(PlanStop {
                            order,
                            site: u.code.clone(),
                            site_name: u.name.clone(),
                            address: u.address.clone(),
                            latitude: u.latitude,
                            longitude: u.longitude,
                            window: window.map(|(o, c)| {
                                format!("{}–{}", o.format("%H:%M"), c.format("%H:%M"))
                            }),
                            arrival: at(st.arrival),
                            eta_local: hhmm(st.start),
                            departure: at(st.departure),
                            lines: s.lines,
                            weight_kg: s.grams as f64 / 1000.0,
                            volume_litres: s.cm3 as f64 / 1000.0,
                        });
                    }
                }
                StopKind::End => {}
            }
            // A trip ends when the vehicle is back at the depot.
            if matches!(st.kind, StopKind::Reload | StopKind::End) {
                let n = trips.len();
                let back = if st.kind == StopKind::Reload {
                    n.saturating_sub(2)
                } else {
                    n.saturating_sub(1)
                };
                if let Some(t) = trips.get_mut(back) {
                    t.return_at = at(st.arrival);
                }
            }
        }
        routes.push(PlanRoute {
            number: routes.len() + 1,
            vehicle: veh.code.clone(),
            trips,
            distance_km: sched.distance as f64 / 1000.0,
            duration_minutes: sched.duration as f64 / 60.0,
            driving_minutes: driving as f64 / 60.0,
            cost: sched.cost as f64 / MICRO,
        });
    }
    for &j in &sol.unassigned {
        let s = routable[j];
        unassigned.push(unassigned_stop(
            &input.units[s.unit],
            s,
            UnservedReason::NoRoomOnRoutes,
        ));
    }
    unassigned.sort_by(|a, b| (a.tier, &a.site).cmp(&(b.tier, &b.site)));

    let codes: HashMap<i64, &PlanUnit> = input.units.iter().map(|u| (u.id, u)).collect();
    let lines: Vec<PlanLine> = allocated
        .into_iter()
        .filter_map(|a| {
            let u = codes.get(&a.need.site)?;
            let it = items.get(&a.need.item)?;
            Some(PlanLine {
                site: u.code.clone(),
                item: it.sku.clone(),
                tier: a.need.tier,
                requested: a.need.need,
                need_reason: a.need.reason,
                allocated: a.allocated,
                reason: a.reason,
                overridden_from: a.overridden_from,
                lots: a.lots,
                days_before: a.need.days_before,
                days_after: a.need.days_with(a.allocated),
                stockout_probability_before: a.need.stockout_probability_before,
                routed: routed_units.contains(&u.id) && a.allocated > 0,
            })
        })
        .collect();
    let routed: Vec<&PlanLine> = lines.iter().filter(|l| l.routed).collect();
    let totals = PlanTotals {
        units_served: routed_units.len(),
        units_unserved: unassigned.len(),
        stock_delivered: routed.iter().map(|l| l.allocated).sum(),
        days_of_supply_gained: routed
            .iter()
            .filter_map(|l| Some(l.days_after? - l.days_before?))
            .map(|d| d.max(0.0))
            .sum::<f64>(),
        distance_km: routes.iter().map(|r| r.distance_km).sum(),
        driving_minutes: routes.iter().map(|r| r.driving_minutes).sum(),
        cost: routes.iter().map(|r| r.cost).sum(),
        vehicles_used: routes.len(),
    };
    Ok(DeliveryPlan {
        id: 0,
        version: 1,
        replaces: None,
        status: PlanStatus::Planned,
        date: input.date,
        depot: input.depot.code.clone(),
        vehicles: input.vehicles.iter().map(|x| x.code.clone()).collect(),
        created_at: DateTime::UNIX_EPOCH,
        created_by: None,
        lines,
        routes,
        unassigned,
        totals,
        solve_seconds: sol.stats.elapsed,
        transfers: Vec::new(),
    })
}

fn unassigned_stop(u: &PlanUnit, s: &Stop, reason: UnservedReason) -> UnassignedStop {
    UnassignedStop {
        site: u.code.clone(),
        tier: u.tier,
        reason,
        weight_kg: s.grams as f64 / 1000.0,
        volume_litres: s.cm3 as f64 / 1000.0,
    }
}
