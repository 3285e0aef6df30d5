//! Vehicle routing for the distribution plan: which van serves which unit, in which order, on which
//! trip. A pure engine: the caller supplies the problem, a seed, a budget and a clock; it returns a
//! solution that the independent checker (`check`) has accepted.
//!
//! - `model`: jobs (multi-dimensional demand, several time windows, service time, penalty if left
//!   unserved), vehicles (capacity per dimension, shift, maximum duration, fixed and per-distance /
//!   per-time costs, start/end depot, second trips after reloading) and the travel matrix.
//! - `travel`: matrices from coordinates (haversine × road factor at a speed; the CVRPLIB and
//!   Solomon conventions) or from a router's rows.
//! - `solve`: the search (SISR, see `sisr`), anytime, deterministic for a seed and an iteration
//!   budget, on one thread or as several chains that exchange plans (`sisr::parallel`); `check`:
//!   the independent validator with the timed schedule of every route.
//! - `instances`: CVRPLIB / Solomon readers that answer in the file's own node numbers.
//!
//! ```
//! use ppe_domain::routing::{self, Job, Problem, SolveOptions, Vehicle, travel};
//!
//! let matrix = travel::euclid_nint(&[(0.0, 0.0), (3.0, 4.0), (6.0, 8.0)]);
//! let jobs = vec![Job::new(1, vec![1]), Job::new(2, vec![1])];
//! let problem = Problem { dimensions: 1, jobs, vehicles: vec![Vehicle::new(0, vec![5])], matrix };
//! let options = SolveOptions { time_limit: None, max_iterations: Some(100), ..SolveOptions::default() };
//! let solution = routing::solve(&problem, &options, &|| 0.0).unwrap();
//! assert_eq!(solution.cost, 20);
//! assert!(solution.unassigned.is_empty());
//! ```

pub mod check;
pub mod instances;
pub mod model;
mod rng;
mod route_state;
mod sisr;
pub mod solution;
pub mod travel;

#[cfg(test)]
mod tests;

pub use check::{Evaluation, Violation, check};
pub use model::{Job, MANDATORY_PENALTY, Problem, ProblemError, TimeWindow, TravelMatrix, Vehicle};
pub use sisr::SearchParams;
pub use solution::{Route, RouteSchedule, Solution, SolveStats, Stop, StopKind};

use serde::{Deserialize, Serialize};

/// How long to search and with which randomness. With neither limit set, `solve` returns the first
/// (greedy) solution.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct SolveOptions {
    /// Seconds, as measured by the clock passed to `solve`.
    pub time_limit: Option<f64>,
    /// Iterations of ruin-and-recreate; with no time limit the result depends only on the seed.
    pub max_iterations: Option<u64>,
    pub seed: u64,
    /// Threads searching together (see `sisr::parallel`); with more than one, each spends the
    /// whole iteration budget, and the result is still fixed by the seed and the budget.
    pub threads: usize,
    pub params: SearchParams,
}

impl Default for SolveOptions {
    fn default() -> Self {
        SolveOptions {
            time_limit: Some(10.0),
            max_iterations: None,
            seed: 1,
            threads: 1,
            params: SearchParams::default(),
        }
    }
}

/// Solves `problem`. `clock` returns the seconds elapsed since the caller's start (read about once
/// per iteration); pass `&|| 0.0` with `max_iterations` for a run that depends only on the seed.
/// The result always passes `check`: jobs that cannot be served feasibly are listed as unassigned.
pub fn solve(
    problem: &Problem,
    options: &SolveOptions,
    clock: &(dyn Fn() -> f64 + Sync),
) -> Result<Solution, ProblemError> {
    problem.validate()?;
    let budget = sisr::Budget {
        time_limit: options.time_limit,
        max_iterations: options.max_iterations,
        clock,
    };
    let found = sisr::search(
        problem,
        &options.params,
        options.seed,
        options.threads,
        &budget,
    );
    let elapsed = clock();
    let routes: Vec<Route> = found
        .routes
        .iter()
        .filter(|r| r.n_jobs > 0)
        .map(|r| Route {
            vehicle: r.vehicle,
            trips: r.trips(),
        })
        .collect();
    let stats = SolveStats {
        iterations: found.iterations,
        time_to_best: found.time_to_best,
        elapsed,
    };
    let mut unassigned = found.unassigned;
    unassigned.sort_unstable();
    match check(problem, &routes, &unassigned) {
        Ok(ev) => Ok(Solution {
            routes,
            unassigned,
            cost: ev.cost,
            distance: ev.distance,
            schedules: ev.schedules,
            stats,
        }),
        // The search keeps only feasible states, so this would be a bug; still never return a
        // broken plan: serving nobody is always feasible.
        Err(_) => {
            let all: Vec<usize> = (0..problem.jobs.len()).collect();
            let cost = problem.jobs.iter().map(|j| j.unserved_penalty).sum();
            Ok(Solution {
                routes: Vec::new(),
                unassigned: all,
                cost,
                distance: 0,
                schedules: Vec::new(),
                stats,
            })
        }
    }
}
