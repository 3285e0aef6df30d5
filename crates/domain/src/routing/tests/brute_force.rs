//! Exact optimum of tiny instances (single trip per vehicle, no duration limit): the best route
//! for every (vehicle, subset of jobs) by depth-first enumeration of orders, then a DP over
//! vehicles × subsets, plus the penalties of the jobs left out. Independent of the search code.

use proptest::prelude::*;

use super::super::model::{Job, Problem, Vehicle};
use super::super::{SolveOptions, check, solve};
use super::{grid_problem, window};

/// Best cost of serving exactly `mask` with vehicle `v`, for every mask (i64::MAX = impossible).
fn best_routes(p: &Problem, v: &Vehicle) -> Vec<i64> {
    let n = p.jobs.len();
    let mut best = vec![i64::MAX; 1 << n];
    best[0] = 0;
    #[allow(clippy::too_many_arguments)]
    fn dfs(
        p: &Problem,
        v: &Vehicle,
        best: &mut [i64],
        mask: usize,
        loc: usize,
        t: i64,
        load: &[i64],
        cost: i64,
    ) {
        for j in 0..p.jobs.len() {
            if mask & (1 << j) != 0 {
                continue;
            }
            let job = &p.jobs[j];
            let new_load: Vec<i64> = load.iter().zip(&job.demand).map(|(a, b)| a + b).collect();
            if new_load.iter().zip(&v.capacity).any(|(l, c)| l > c) {
                continue;
            }
            let arrival = t + p.matrix.time(loc, job.location);
            let start = if job.windows.is_empty() {
                Some(arrival)
            } else {
                job.windows
                    .iter()
                    .find(|w| w.end >= arrival)
                    .map(|w| w.start.max(arrival))
            };
            let Some(start) = start else { continue };
            let t2 = start + job.service;
            let c2 = cost + p.arc_cost(v, loc, job.location);
            let m2 = mask | (1 << j);
            if t2 + p.matrix.time(job.location, v.end_location) <= v.shift.end {
                let total = c2 + p.arc_cost(v, job.location, v.end_location) + v.fixed_cost;
                best[m2] = best[m2].min(total);
            }
            dfs(p, v, best, m2, job.location, t2, &new_load, c2);
        }
    }
    dfs(
        p,
        v,
        &mut best,
        0,
        v.start_location,
        v.shift.start,
        &vec![0; p.dimensions],
        0,
    );
    best
}

pub(super) fn optimum(p: &Problem) -> i64 {
    let n = p.jobs.len();
    let full = (1usize << n) - 1;
    let mut h = vec![i64::MAX; 1 << n];
    h[0] = 0;
    for v in &p.vehicles {
        let b = best_routes(p, v);
        let mut next = h.clone();
        for s in 1..=full {
            // Enumerate the subset T ⊆ s served by this vehicle.
            let mut t = s;
            while t > 0 {
                if b[t] != i64::MAX && h[s ^ t] != i64::MAX {
                    next[s] = next[s].min(h[s ^ t] + b[t]);
                }
                t = (t - 1) & s;
            }
        }
        h = next;
    }
    (0..=full)
        .filter(|&s| h[s] != i64::MAX)
        .map(|s| {
            h[s] + (0..n)
                .filter(|j| s & (1 << j) == 0)
                .map(|j| p.jobs[j].unserved_penalty)
                .sum::<i64>()
        })
        .min()
        .unwrap()
}

prop_compose! {
    fn tiny_instance()(
        n in 1usize..=8,
        seed_pts in prop::collection::vec((0i64..60, 0i64..60), 9),
        demands in prop::collection::vec((1i64..6, 0i64..4), 8),
        windows in prop::collection::vec((0i64..150, 20i64..120, 0usize..3), 8),
        services in prop::collection::vec(0i64..10, 8),
        optional in prop::collection::vec(prop::option::weighted(0.3, 20i64..200), 8),
        fleet in prop::collection::vec((5i64..16, 3i64..10, 0i64..30), 1..=3),
        horizon in 150i64..400,
    ) -> Problem {
        let jobs = (0..n).map(|j| {
            let mut job = Job::new(j + 1, vec![demands[j].0, demands[j].1]);
            job.service = services[j];
            let (a, len, kind) = windows[j];
            job.windows = match kind {
                0 => vec![],
                1 => vec![window(a, a + len)],
                _ => vec![window(a / 2, a / 2 + len / 3), window(a / 2 + len / 3 + 40, a / 2 + len + 60)],
            };
            if let Some(pen) = optional[j] {
                job.unserved_penalty = pen;
            }
            job
        }).collect();
        let vehicles = fleet.iter().map(|&(c0, c1, fixed)| {
            let mut v = Vehicle::new(0, vec![c0, c1]);
            v.fixed_cost = fixed;
            v.shift = window(0, horizon);
            v
        }).collect();
        grid_problem(&seed_pts[..=n], jobs, vehicles, 2)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn search_finds_the_brute_force_optimum(p in tiny_instance()) {
        let best = optimum(&p);
        let opts = SolveOptions { time_limit: None, max_iterations: Some(20_000), seed: 7, ..SolveOptions::default() };
        let sol = solve(&p, &opts, &|| 0.0).unwrap();
        prop_assert!(check(&p, &sol.routes, &sol.unassigned).is_ok());
        prop_assert_eq!(sol.cost, best);
    }
}

#[test]
fn brute_force_on_a_hand_made_case() {
    // Depot at 0; two jobs at distance 10 in opposite directions; one vehicle of capacity 1 for
    // each: the optimum is two out-and-back trips, 40.
    let jobs = vec![Job::new(1, vec![1]), Job::new(2, vec![1])];
    let vehicles = vec![Vehicle::new(0, vec![1]), Vehicle::new(0, vec![1])];
    let p = grid_problem(&[(0, 0), (10, 0), (-10, 0)], jobs, vehicles, 1);
    assert_eq!(optimum(&p), 40);
}
