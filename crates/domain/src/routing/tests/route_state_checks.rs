//! The O(1) insertion test (forward earliest departures, backward latest arrivals, trip loads) must
//! agree exactly with a full re-simulation by the checker, for every slot of random routes.

use proptest::prelude::*;

use super::super::check::schedule;
use super::super::model::{Job, Vehicle};
use super::super::rng::Rng;
use super::super::route_state::{Ctx, Insertion, NEVER, RELOAD, RouteState};
use super::super::solution::Route;
use super::{grid_problem, window};

fn route_of(rs: &RouteState) -> Route {
    Route {
        vehicle: rs.vehicle,
        trips: rs.trips(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn insertion_test_matches_full_simulation(
        pts in prop::collection::vec((0i64..50, 0i64..50), 8),
        wins in prop::collection::vec((0i64..200, 5i64..80, 0usize..3), 7),
        order in Just((1..7).collect::<Vec<usize>>()).prop_shuffle(),
        len in 0usize..=6,
        reload_at in 0usize..6,
        cap in 4i64..14,
        shift_end in 150i64..500,
        max_duration in prop::option::weighted(0.3, 100i64..400),
    ) {
        let jobs: Vec<Job> = (0..7).map(|j| {
            let mut job = Job::new(j + 1, vec![2]);
            job.service = 3;
            let (a, l, kind) = wins[j];
            job.windows = match kind {
                0 => vec![],
                1 => vec![window(a, a + l)],
                _ => vec![window(a / 2, a / 2 + l / 4), window(a / 2 + l / 4 + 30, a / 2 + l + 50)],
            };
            job
        }).collect();
        let mut v = Vehicle::new(0, vec![cap]);
        v.max_trips = 3;
        v.reload_time = 4;
        v.shift = window(0, shift_end);
        v.max_duration = max_duration;
        let p = grid_problem(&pts, jobs, vec![v], 1);
        let ctx = Ctx::new(&p, 10);
        // A route through some jobs (job 0 is the one to insert), with a reload somewhere.
        let mut rs = RouteState::new(0);
        // Caches left from a longer route must not leak into the shorter one.
        rs.nodes = (1..7).collect();
        rs.update(&ctx);
        let mut nodes: Vec<u32> = order[..len].iter().map(|&j| j as u32).collect();
        nodes.insert(reload_at.min(nodes.len()), RELOAD);
        rs.nodes = nodes;
        rs.normalize();
        rs.update(&ctx);
        let full = schedule(&p, &route_of(&rs)).1;
        prop_assert_eq!(rs.feasible, full.is_empty(), "{:?}", full);
        prop_assume!(rs.feasible);
        for gap in 0..=rs.nodes.len() {
            let mut cand = rs.clone();
            cand.nodes.insert(gap, 0);
            let truth = schedule(&p, &route_of(&cand)).1.is_empty();
            prop_assert_eq!(rs.slot_ok(&ctx, 0, gap), truth, "gap {}", gap);
        }
        let mut rng = Rng::new(1);
        let mut best = Insertion { delta: i64::MAX, route: usize::MAX, gap: 0, new_trip: false };
        rs.best_insertion(&ctx, 0, 0, &mut best, &mut rng, 0.0);
        if best.route != usize::MAX {
            let mut after = rs.clone();
            after.apply(&best, 0, &ctx);
            prop_assert!(schedule(&p, &route_of(&after)).1.is_empty());
            prop_assert_eq!(after.cost - rs.cost, best.delta);
            // The in-place patch must leave the same caches as a full recomputation.
            let mut fresh = after.clone();
            fresh.update(&ctx);
            prop_assert_eq!((&after.loc, &after.dep, &after.lat, &after.trip_of_gap), (&fresh.loc, &fresh.dep, &fresh.lat, &fresh.trip_of_gap));
            prop_assert_eq!((&after.wait_after, &after.delay_cap, &after.arc), (&fresh.wait_after, &fresh.delay_cap, &fresh.arc));
            prop_assert_eq!((&after.trip_load, after.n_jobs, after.n_trips, after.cost, after.feasible), (&fresh.trip_load, fresh.n_jobs, fresh.n_trips, fresh.cost, fresh.feasible));
        }
    }
}

#[test]
fn latest_arrival_with_two_windows() {
    let mut j = Job::new(1, vec![0]);
    j.windows = vec![window(10, 20), window(50, 60)];
    let p = grid_problem(
        &[(0, 0), (1, 0)],
        vec![j],
        vec![Vehicle::new(0, vec![1])],
        1,
    );
    let ctx = Ctx::new(&p, 5);
    assert_eq!(ctx.latest_arrival(0, 100), 60);
    assert_eq!(ctx.latest_arrival(0, 55), 55);
    assert_eq!(ctx.latest_arrival(0, 40), 20);
    assert_eq!(ctx.latest_arrival(0, 15), 15);
    assert_eq!(ctx.latest_arrival(0, 5), NEVER);
}

#[test]
fn removal_that_breaks_duration_is_flagged() {
    // Leaving late for a first stop with a late window keeps the day short; without that stop the
    // van leaves at once and waits at the next one, so the rest of the route becomes too long.
    let pts = [(0, 0), (10, 0), (11, 0)];
    let mut a = Job::new(1, vec![0]);
    a.windows = vec![window(100, 100)];
    let mut b = Job::new(2, vec![0]);
    b.windows = vec![window(0, 1000)];
    let mut c = Job::new(2, vec![0]);
    c.windows = vec![window(300, 300)];
    let mut v = Vehicle::new(0, vec![1]);
    v.max_duration = Some(250);
    let p = grid_problem(&pts, vec![a, b, c], vec![v], 1);
    let ctx = Ctx::new(&p, 5);
    let mut rs = RouteState::new(0);
    rs.nodes = vec![0, 1, 2];
    rs.update(&ctx);
    assert!(rs.feasible);
    rs.nodes = vec![1, 2];
    rs.update(&ctx);
    assert!(!rs.feasible);
}
