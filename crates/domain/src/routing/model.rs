//! The vehicle-routing problem as the engine sees it: jobs, vehicles and a travel matrix.
//! Everything is integer (i64): distances, times, loads and costs, so results are exact and repeatable.

use serde::{Deserialize, Serialize};

/// Penalty for leaving a mandatory job unserved. Large enough to dominate any travel cost, small
/// enough that a few thousand of them still fit in an i64.
pub const MANDATORY_PENALTY: i64 = 1_000_000_000_000;

/// A closed interval of allowed service-start times, in the problem's time unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub start: i64,
    pub end: i64,
}

impl TimeWindow {
    pub const ALWAYS: TimeWindow = TimeWindow {
        start: 0,
        end: i64::MAX / 4,
    };

    pub fn new(start: i64, end: i64) -> Self {
        TimeWindow { start, end }
    }
}

/// A delivery to one location.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Index into the travel matrix.
    pub location: usize,
    /// One amount per capacity dimension (e.g. volume, weight, cartons).
    pub demand: Vec<i64>,
    /// Time spent at the stop once service has started.
    pub service: i64,
    /// Service must start inside one of these; empty means "any time". Sorted, disjoint.
    pub windows: Vec<TimeWindow>,
    /// Cost of leaving the job unserved (priority-weighted); `MANDATORY_PENALTY` for must-serve jobs.
    pub unserved_penalty: i64,
}

impl Job {
    pub fn new(location: usize, demand: Vec<i64>) -> Self {
        Job {
            location,
            demand,
            service: 0,
            windows: Vec::new(),
            unserved_penalty: MANDATORY_PENALTY,
        }
    }

    /// The usual priority scheme: a job of priority `p` (1 = lowest) costs `p × base` when left
    /// for another day, so a nursing home at priority 10 goes before a school at priority 1.
    pub fn priority_penalty(priority: u32, base: i64) -> i64 {
        i64::from(priority.max(1)).saturating_mul(base)
    }
}

/// One vehicle (a van and its driver's shift).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Vehicle {
    pub start_location: usize,
    pub end_location: usize,
    /// One capacity per dimension; each trip's load must fit.
    pub capacity: Vec<i64>,
    /// The vehicle may leave at `shift.start` or later and must be back by `shift.end`.
    pub shift: TimeWindow,
    /// Longest allowed time from leaving the depot to returning to it (see `check`).
    pub max_duration: Option<i64>,
    /// Paid once when the vehicle is used.
    pub fixed_cost: i64,
    /// Cost per unit of distance and per unit of travel time.
    pub cost_per_distance: i64,
    pub cost_per_time: i64,
    /// 1 = a single trip; 2 = the van may return to its start depot, reload and go out again.
    pub max_trips: u32,
    /// Time spent reloading at the depot between trips.
    pub reload_time: i64,
}

impl Vehicle {
    pub fn new(depot: usize, capacity: Vec<i64>) -> Self {
        Vehicle {
            start_location: depot,
            end_location: depot,
            capacity,
            shift: TimeWindow::ALWAYS,
            max_duration: None,
            fixed_cost: 0,
            cost_per_distance: 1,
            cost_per_time: 0,
            max_trips: 1,
            reload_time: 0,
        }
    }
}

/// Distances and travel times between locations, row-major, `n × n`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TravelMatrix {
    pub n: usize,
    pub distance: Vec<i64>,
    pub time: Vec<i64>,
}

impl TravelMatrix {
    #[inline]
    pub fn dist(&self, a: usize, b: usize) -> i64 {
        self.distance[a * self.n + b]
    }
    #[inline]
    pub fn time(&self, a: usize, b: usize) -> i64 {
        self.time[a * self.n + b]
    }
}

/// A whole routing problem.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// Number of capacity dimensions; every demand and capacity has this length.
    pub dimensions: usize,
    pub jobs: Vec<Job>,
    pub vehicles: Vec<Vehicle>,
    pub matrix: TravelMatrix,
}

/// Why a problem is malformed (not: why it has no good solution).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProblemError {
    #[error("travel matrix has {got} entries, expected {n}×{n}")]
    MatrixSize { n: usize, got: usize },
    #[error("job {0}: location out of range")]
    JobLocation(usize),
    #[error("job {0}: demand has the wrong number of dimensions")]
    JobDimensions(usize),
    #[error("job {0}: negative demand, service time or penalty, or unsorted/empty time windows")]
    JobValues(usize),
    #[error("vehicle {0}: location out of range")]
    VehicleLocation(usize),
    #[error("vehicle {0}: capacity has the wrong number of dimensions or is negative")]
    VehicleCapacity(usize),
    #[error("vehicle {0}: shift ends before it starts, negative costs, or zero trips")]
    VehicleValues(usize),
    #[error("travel matrix has a negative entry")]
    NegativeTravel,
}

impl Problem {
    /// Checks the shape of the input so that the search can index without surprises.
    pub fn validate(&self) -> Result<(), ProblemError> {
        let n = self.matrix.n;
        for got in [self.matrix.distance.len(), self.matrix.time.len()] {
            if got != n * n {
                return Err(ProblemError::MatrixSize { n, got });
            }
        }
        if self
            .matrix
            .distance
            .iter()
            .chain(&self.matrix.time)
            .any(|&x| x < 0)
        {
            return Err(ProblemError::NegativeTravel);
        }
        for (i, j) in self.jobs.iter().enumerate() {
            if j.location >= n {
                return Err(ProblemError::JobLocation(i));
            }
            if j.demand.len() != self.dimensions {
                return Err(ProblemError::JobDimensions(i));
            }
            let windows_ok = j.windows.iter().all(|w| w.start <= w.end)
                && j.windows.windows(2).all(|p| p[0].end < p[1].start);
            if j.demand.iter().any(|&d| d < 0)
                || j.service < 0
                || j.unserved_penalty < 0
                || !windows_ok
            {
                return Err(ProblemError::JobValues(i));
            }
        }
        for (i, v) in self.vehicles.iter().enumerate() {
            if v.start_location >= n || v.end_location >= n {
                return Err(ProblemError::VehicleLocation(i));
            }
            if v.capacity.len() != self.dimensions || v.capacity.iter().any(|&c| c < 0) {
                return Err(ProblemError::VehicleCapacity(i));
            }
            if v.shift.start > v.shift.end
                || v.fixed_cost < 0
                || v.cost_per_distance < 0
                || v.cost_per_time < 0
                || v.max_trips == 0
                || v.reload_time < 0
                || v.max_duration.is_some_and(|d| d < 0)
            {
                return Err(ProblemError::VehicleValues(i));
            }
        }
        Ok(())
    }

    /// Cost of driving from `a` to `b` with vehicle `v`.
    #[inline]
    pub fn arc_cost(&self, v: &Vehicle, a: usize, b: usize) -> i64 {
        v.cost_per_distance * self.matrix.dist(a, b) + v.cost_per_time * self.matrix.time(a, b)
    }
}
