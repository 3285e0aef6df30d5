//! An independent checker: recomputes every schedule from scratch and lists every broken constraint.
//! The search uses its own incremental bookkeeping; this module is the reference it must agree with.

use super::model::{Problem, Vehicle};
use super::solution::{Route, RouteSchedule, Stop, StopKind};

/// A broken constraint, in words a planner can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Violation {
    #[error("job {0} does not exist")]
    UnknownJob(usize),
    #[error("vehicle {0} does not exist")]
    UnknownVehicle(usize),
    #[error("vehicle {0} has more than one route")]
    VehicleReused(usize),
    #[error("job {0} is served more than once or also listed as unassigned")]
    Duplicate(usize),
    #[error("job {0} is neither served nor listed as unassigned")]
    Missing(usize),
    #[error("vehicle {vehicle}: {trips} trips (max {max}) or an empty trip")]
    Trips {
        vehicle: usize,
        trips: usize,
        max: u32,
    },
    #[error("vehicle {vehicle}, trip {trip}: load exceeds capacity in dimension {dim}")]
    Capacity {
        vehicle: usize,
        trip: usize,
        dim: usize,
    },
    #[error("vehicle {vehicle}: job {job} arrives at {arrival}, after its last time window")]
    TimeWindow {
        vehicle: usize,
        job: usize,
        arrival: i64,
    },
    #[error("vehicle {vehicle}: back at {arrival}, after shift end")]
    ShiftEnd { vehicle: usize, arrival: i64 },
    #[error("vehicle {vehicle}: route lasts {duration}, longer than allowed")]
    Duration { vehicle: usize, duration: i64 },
}

/// Totals of a valid solution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Evaluation {
    pub cost: i64,
    pub distance: i64,
    pub unserved_penalty: i64,
    pub schedules: Vec<RouteSchedule>,
}

/// The schedule of one vehicle, by the rules every part of the engine follows:
/// - service starts at the arrival or at the start of the first window not yet closed, whichever is
///   later (waiting is allowed);
/// - between trips the vehicle returns to its start location and reloads for `reload_time`;
/// - it leaves the depot at its shift start, or later by exactly the wait it would otherwise have at
///   the first stop (so the duration does not count avoidable waiting at the first stop);
/// - duration = return time − departure time.
///
/// Returns the schedule and the violations found (empty = feasible).
pub fn schedule(problem: &Problem, route: &Route) -> (RouteSchedule, Vec<Violation>) {
    let v: &Vehicle = &problem.vehicles[route.vehicle];
    let m = &problem.matrix;
    let mut problems = Vec::new();
    let vid = route.vehicle;
    if route.trips.len() > v.max_trips as usize || route.trips.iter().any(|t| t.is_empty()) {
        problems.push(Violation::Trips {
            vehicle: vid,
            trips: route.trips.len(),
            max: v.max_trips,
        });
    }
    let mut stops = Vec::new();
    if route.trips.iter().all(|t| t.is_empty()) {
        return (
            RouteSchedule {
                vehicle: vid,
                stops,
                distance: 0,
                duration: 0,
                cost: 0,
            },
            problems,
        );
    }
    // Departure: delay by the wait at the first job (computed as if leaving at shift start).
    let first = route.trips[0][0];
    let arr0 = v.shift.start + m.time(v.start_location, problem.jobs[first].location);
    let start0 = service_start(problem, first, arr0).unwrap_or(arr0);
    let depart = v
        .shift
        .start
        .max(start0 - m.time(v.start_location, problem.jobs[first].location));

    let dims = problem.dimensions;
    let mut t = depart;
    let mut loc = v.start_location;
    let mut distance = 0;
    let mut cost = v.fixed_cost;
    for (ti, trip) in route.trips.iter().enumerate() {
        let mut load = vec![0i64; dims];
        for &j in trip {
            for (d, l) in load.iter_mut().enumerate() {
                *l += problem.jobs[j].demand[d];
            }
        }
        for (d, (&l, &c)) in load.iter().zip(&v.capacity).enumerate() {
            if l > c {
                problems.push(Violation::Capacity {
                    vehicle: vid,
                    trip: ti,
                    dim: d,
                });
            }
        }
        if ti == 0 {
            stops.push(Stop {
                kind: StopKind::Start,
                location: loc,
                arrival: depart,
                start: depart,
                departure: depart,
                load_after: load.clone(),
            });
        } else {
            let arrival = t + m.time(loc, v.start_location);
            distance += m.dist(loc, v.start_location);
            cost += problem.arc_cost(v, loc, v.start_location);
            loc = v.start_location;
            t = arrival + v.reload_time;
            stops.push(Stop {
                kind: StopKind::Reload,
                location: loc,
                arrival,
                start: arrival,
                departure: t,
                load_after: load.clone(),
            });
        }
        for &j in trip {
            let job = &problem.jobs[j];
            let arrival = t + m.time(loc, job.location);
            distance += m.dist(loc, job.location);
            cost += problem.arc_cost(v, loc, job.location);
            let start = match service_start(problem, j, arrival) {
                Some(s) => s,
                None => {
                    problems.push(Violation::TimeWindow {
                        vehicle: vid,
                        job: j,
                        arrival,
                    });
                    arrival
                }
            };
            t = start + job.service;
            loc = job.location;
            for (d, l) in load.iter_mut().enumerate() {
                *l -= job.demand[d];
            }
            stops.push(Stop {
                kind: StopKind::Job(j),
                location: loc,
                arrival,
                start,
                departure: t,
                load_after: load.clone(),
            });
        }
    }
    let arrival = t + m.time(loc, v.end_location);
    distance += m.dist(loc, v.end_location);
    cost += problem.arc_cost(v, loc, v.end_location);
    stops.push(Stop {
        kind: StopKind::End,
        location: v.end_location,
        arrival,
        start: arrival,
        departure: arrival,
        load_after: vec![0; dims],
    });
    if arrival > v.shift.end {
        problems.push(Violation::ShiftEnd {
            vehicle: vid,
            arrival,
        });
    }
    let duration = arrival - depart;
    if v.max_duration.is_some_and(|md| duration > md) {
        problems.push(Violation::Duration {
            vehicle: vid,
            duration,
        });
    }
    (
        RouteSchedule {
            vehicle: vid,
            stops,
            distance,
            duration,
            cost,
        },
        problems,
    )
}

/// Earliest service start for `job` when arriving at `arrival`, or None if every window has closed.
pub fn service_start(problem: &Problem, job: usize, arrival: i64) -> Option<i64> {
    let ws = &problem.jobs[job].windows;
    if ws.is_empty() {
        return Some(arrival);
    }
    ws.iter()
        .find(|w| w.end >= arrival)
        .map(|w| arrival.max(w.start))
}

/// Checks a whole solution: every job served once or listed unassigned, every route feasible.
pub fn check(
    problem: &Problem,
    routes: &[Route],
    unassigned: &[usize],
) -> Result<Evaluation, Vec<Violation>> {
    let mut problems = Vec::new();
    let n = problem.jobs.len();
    let mut seen = vec![false; n];
    let mut used = vec![false; problem.vehicles.len()];
    let mut mark = |j: usize, problems: &mut Vec<Violation>| {
        if j >= n {
            problems.push(Violation::UnknownJob(j));
        } else if std::mem::replace(&mut seen[j], true) {
            problems.push(Violation::Duplicate(j));
        }
    };
    let mut schedules = Vec::new();
    let (mut cost, mut distance) = (0i64, 0i64);
    for r in routes {
        if r.vehicle >= problem.vehicles.len() {
            problems.push(Violation::UnknownVehicle(r.vehicle));
            continue;
        }
        if std::mem::replace(&mut used[r.vehicle], true) {
            problems.push(Violation::VehicleReused(r.vehicle));
        }
        let mut bad = false;
        for j in r.jobs() {
            bad |= j >= n;
            mark(j, &mut problems);
        }
        if bad {
            continue;
        }
        let (s, p) = schedule(problem, r);
        problems.extend(p);
        cost += s.cost;
        distance += s.distance;
        schedules.push(s);
    }
    let mut unserved_penalty = 0i64;
    for &j in unassigned {
        mark(j, &mut problems);
        if j < n {
            unserved_penalty += problem.jobs[j].unserved_penalty;
        }
    }
    problems.extend(
        seen.iter()
            .enumerate()
            .filter(|(_, s)| !**s)
            .map(|(j, _)| Violation::Missing(j)),
    );
    if problems.is_empty() {
        Ok(Evaluation {
            cost: cost + unserved_penalty,
            distance,
            unserved_penalty,
            schedules,
        })
    } else {
        Err(problems)
    }
}
