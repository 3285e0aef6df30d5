//! What the engine returns: routes per vehicle (one or more trips each), the jobs left unserved,
//! the cost, and a timed schedule per stop that a driver's app or a dashboard can show.

use serde::{Deserialize, Serialize};

/// The jobs one vehicle serves, trip by trip (a trip leaves the depot and comes back to reload).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub vehicle: usize,
    pub trips: Vec<Vec<usize>>,
}

impl Route {
    pub fn jobs(&self) -> impl Iterator<Item = usize> + '_ {
        self.trips.iter().flatten().copied()
    }
}

/// One visit in a timed schedule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum StopKind {
    Start,
    Job(usize),
    Reload,
    End,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stop {
    pub kind: StopKind,
    pub location: usize,
    pub arrival: i64,
    /// Service start (after any wait for the time window).
    pub start: i64,
    pub departure: i64,
    /// Load on board when leaving this stop, per dimension.
    pub load_after: Vec<i64>,
}

/// A route's timetable and totals, as the independent checker computed them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteSchedule {
    pub vehicle: usize,
    pub stops: Vec<Stop>,
    pub distance: i64,
    pub duration: i64,
    pub cost: i64,
}

/// The answer of `solve`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Solution {
    /// Only vehicles that are used.
    pub routes: Vec<Route>,
    /// Jobs left unserved (priority-weighted penalty paid in `cost`).
    pub unassigned: Vec<usize>,
    /// Travel + fixed costs + unserved penalties.
    pub cost: i64,
    pub distance: i64,
    pub schedules: Vec<RouteSchedule>,
    pub stats: SolveStats,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SolveStats {
    pub iterations: u64,
    /// Seconds (from the supplied clock) until the returned solution was first found.
    pub time_to_best: f64,
    pub elapsed: f64,
}
