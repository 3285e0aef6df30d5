//! Random richer instances (several capacity dimensions and windows, duration limits, a mixed
//! fleet, second trips, optional jobs): whatever the search returns must pass the checker.

use proptest::prelude::*;

use super::super::model::{Job, Problem, Vehicle};
use super::super::sisr::{Budget, Search, SearchParams};
use super::super::{SolveOptions, check, solve};
use super::{grid_problem, window};

prop_compose! {
    fn rich_instance()(
        n in 10usize..60,
        pts in prop::collection::vec((0i64..200, 0i64..200), 61),
        jobs_raw in prop::collection::vec(
            (1i64..20, 0i64..30, 0i64..5, 0i64..600, 30i64..300, 0usize..4, prop::option::weighted(0.4, 1u32..10)), 60),
        fleet in prop::collection::vec(
            (20i64..80, 30i64..120, 0i64..200, 1u32..=2, prop::option::weighted(0.4, 300i64..900), 0i64..200, 700i64..1400, 0usize..2), 1..6),
    ) -> Problem {
        let jobs = (0..n).map(|j| {
            let (d0, d1, d2, a, len, kind, prio) = jobs_raw[j];
            let mut job = Job::new(j + 2, vec![d0, d1, d2]);
            job.service = d2 * 3;
            job.windows = match kind {
                0 => vec![],
                1 => vec![window(a, a + len)],
                2 => vec![window(a / 3, a / 3 + len / 2), window(a / 3 + len / 2 + 50, a / 3 + len + 200)],
                _ => vec![window(0, 100), window(200, 300), window(400 + a, 500 + a + len)],
            };
            if let Some(p) = prio {
                job.unserved_penalty = Job::priority_penalty(p, 150);
            }
            job
        }).collect();
        let vehicles = fleet.iter().map(|&(c0, c1, fixed, trips, maxdur, start, end, depot)| {
            let mut v = Vehicle::new(depot, vec![c0, c1, 25]);
            v.fixed_cost = fixed;
            v.max_trips = trips;
            v.reload_time = 15;
            v.max_duration = maxdur;
            v.shift = window(start, end);
            v.end_location = 1 - depot; // some vans end at the other depot
            v.cost_per_time = i64::from(depot as u8);
            v
        }).collect();
        grid_problem(&pts[..n + 2], jobs, vehicles, 3)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 40, ..ProptestConfig::default() })]

    #[test]
    fn every_kept_state_is_feasible(p in rich_instance(), seed in 0u64..1000) {
        // The raw search result, before `solve`'s safety net, must already be valid.
        let budget = Budget { time_limit: None, max_iterations: Some(300), clock: &|| 0.0 };
        let found = Search::new(&p, SearchParams::default(), seed).run(&budget);
        let routes: Vec<_> = found.routes.iter().filter(|r| r.n_jobs > 0)
            .map(|r| super::super::Route { vehicle: r.vehicle, trips: r.trips() }).collect();
        let ev = check(&p, &routes, &found.unassigned);
        prop_assert!(ev.is_ok(), "{:?}", ev.err());
        let sol = solve(&p, &SolveOptions { time_limit: None, max_iterations: Some(300), seed, ..SolveOptions::default() }, &|| 0.0).unwrap();
        prop_assert_eq!(sol.cost, ev.unwrap().cost);
        prop_assert!(sol.routes.iter().all(|r| r.trips.len() <= p.vehicles[r.vehicle].max_trips as usize));
    }
}

#[test]
fn same_seed_same_answer() {
    let pts: Vec<(i64, i64)> = (0..41).map(|i| ((i * 37) % 101, (i * 61) % 97)).collect();
    let jobs = (1..41).map(|j| {
        let mut job = Job::new(j, vec![1 + (j as i64 % 5)]);
        job.windows = vec![window((j as i64 * 13) % 200, (j as i64 * 13) % 200 + 150)];
        job
    });
    let p = grid_problem(&pts, jobs.collect(), vec![Vehicle::new(0, vec![20]); 8], 1);
    for threads in [1, 3] {
        let opts = SolveOptions {
            time_limit: None,
            max_iterations: Some(2000),
            seed: 3,
            threads,
            ..SolveOptions::default()
        };
        let a = solve(&p, &opts, &|| 0.0).unwrap();
        let b = solve(&p, &opts, &|| 0.0).unwrap();
        assert_eq!(a.routes, b.routes, "{threads} threads");
        assert_eq!(a.cost, b.cost, "{threads} threads");
        // Every chain spends the whole budget.
        assert_eq!(a.stats.iterations, 2000 * threads as u64);
    }
}

#[test]
fn chains_on_several_threads_stop_together_at_the_time_limit() {
    let pts: Vec<(i64, i64)> = (0..61).map(|i| ((i * 37) % 101, (i * 61) % 97)).collect();
    let jobs = (1..61)
        .map(|j| Job::new(j, vec![1 + (j as i64 % 5)]))
        .collect();
    let p = grid_problem(&pts, jobs, vec![Vehicle::new(0, vec![25]); 12], 1);
    let started = std::time::Instant::now();
    let clock = || started.elapsed().as_secs_f64();
    let opts = SolveOptions {
        time_limit: Some(0.3),
        threads: 2,
        ..SolveOptions::default()
    };
    let s = solve(&p, &opts, &clock).unwrap();
    assert!(s.unassigned.is_empty());
    assert!(s.stats.iterations > 0);
    // Both chains stop at the limit: a chain left waiting for the other would hang here.
    assert!(started.elapsed().as_secs_f64() < 5.0);
}

#[test]
fn second_trip_serves_what_one_load_cannot() {
    // One van of capacity 2, four jobs of 1 near the depot: two trips, nothing unserved.
    let pts = [(0, 0), (5, 0), (6, 0), (0, 5), (0, 6)];
    let jobs = (1..5).map(|l| Job::new(l, vec![1])).collect();
    let mut v = Vehicle::new(0, vec![2]);
    v.max_trips = 2;
    v.reload_time = 3;
    let p = grid_problem(&pts, jobs, vec![v], 1);
    let opts = SolveOptions {
        time_limit: None,
        max_iterations: Some(500),
        seed: 1,
        ..SolveOptions::default()
    };
    let s = solve(&p, &opts, &|| 0.0).unwrap();
    assert!(s.unassigned.is_empty());
    assert_eq!(s.routes[0].trips.len(), 2);
    assert_eq!(s.cost, 24);
}

#[test]
fn optional_job_left_when_too_expensive() {
    // A far job whose penalty is below the detour is left for another day; a near one is served.
    let pts = [(0, 0), (1000, 0), (3, 4)];
    let mut far = Job::new(1, vec![1]);
    far.unserved_penalty = 500;
    let near = Job::new(2, vec![1]);
    let p = grid_problem(&pts, vec![far, near], vec![Vehicle::new(0, vec![5])], 1);
    let opts = SolveOptions {
        time_limit: None,
        max_iterations: Some(200),
        seed: 1,
        ..SolveOptions::default()
    };
    let s = solve(&p, &opts, &|| 0.0).unwrap();
    assert_eq!(s.unassigned, vec![0]);
    assert_eq!(s.cost, 500 + 10);
}

#[test]
fn impossible_job_is_reported_not_forced() {
    // The window closes before the van can get there.
    let pts = [(0, 0), (100, 0)];
    let mut j = Job::new(1, vec![1]);
    j.windows = vec![window(0, 50)];
    let p = grid_problem(&pts, vec![j], vec![Vehicle::new(0, vec![5])], 1);
    let s = solve(
        &p,
        &SolveOptions {
            time_limit: None,
            max_iterations: Some(50),
            ..SolveOptions::default()
        },
        &|| 0.0,
    )
    .unwrap();
    assert_eq!(s.unassigned, vec![0]);
    assert!(s.routes.is_empty());
}

#[test]
fn time_limit_is_respected_with_a_fake_clock() {
    // The clock advances 1 ms per read; a 0.05 s limit stops after about 50 iterations.
    let ticks = std::sync::atomic::AtomicU64::new(0);
    let clock = || (ticks.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1) as f64 * 0.001;
    let pts: Vec<(i64, i64)> = (0..21).map(|i| ((i * 7) % 31, (i * 11) % 29)).collect();
    let jobs = (1..21).map(|l| Job::new(l, vec![1])).collect();
    let p = grid_problem(&pts, jobs, vec![Vehicle::new(0, vec![6]); 5], 1);
    let opts = SolveOptions {
        time_limit: Some(0.05),
        max_iterations: None,
        seed: 1,
        ..SolveOptions::default()
    };
    let s = solve(&p, &opts, &clock).unwrap();
    assert!(s.stats.iterations <= 50, "{}", s.stats.iterations);
    assert!(s.unassigned.is_empty());
}
