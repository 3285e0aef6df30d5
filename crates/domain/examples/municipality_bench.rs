//! A generated day of deliveries in a municipality of about 130 000 people: 200 units (nursing
//! homes, home-care bases, GP offices, schools, kindergartens) around one warehouse, haversine × 1.3
//! at 40 km/h, six vans with volume and weight limits, opening hours (GP offices closed at lunch),
//! a second trip after reloading, a 9-hour driver day. Solves it with each time limit and reports
//! the cost, so the 2 s answer can be compared with the 30 s one.
//!
//! `municipality_bench [--time-limits 2,30] [--seed 1] [--stops 200] [--iterations 60000,900000]
//! [--solver-seed S] [--threads N] [--runs N] [--routes]` (the seed draws the municipality and,
//! unless `--solver-seed` is given, the search's randomness; `--runs` repeats each budget with the
//! solver seeds S, S + 1, … and summarises them; `--routes` lists each van's trips on stderr)
//!
//! `--iterations` replaces the time limits by iteration budgets: the result then depends only on the
//! seed, so variants can be compared on a loaded machine.

use std::time::Instant;

use ppe_domain::routing::travel::{self, LatLon};
use ppe_domain::routing::{Job, Problem, SolveOptions, TimeWindow, Vehicle, solve};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const H: i64 = 3600;

fn hours(a: f64, b: f64) -> TimeWindow {
    TimeWindow::new((a * H as f64) as i64, (b * H as f64) as i64)
}

/// Seeded, so every run and every machine sees the same municipality.
fn municipality(stops: usize, seed: u64) -> Problem {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // Warehouse near the centre; units spread over ~25 × 18 km around a few neighbourhood centres.
    let depot = LatLon {
        lat: 59.745,
        lon: 10.205,
    };
    let centres: Vec<LatLon> = (0..6)
        .map(|_| LatLon {
            lat: depot.lat + rng.random_range(-0.07..0.07),
            lon: depot.lon + rng.random_range(-0.2..0.2),
        })
        .collect();
    let mut points = vec![depot];
    let mut jobs = Vec::new();
    for i in 0..stops {
        let c = centres[rng.random_range(0..centres.len())];
        let spread = if rng.random_bool(0.3) { 0.05 } else { 0.015 };
        let p = LatLon {
            lat: c.lat + rng.random_range(-spread..spread),
            lon: c.lon + 2.0 * rng.random_range(-spread..spread),
        };
        points.push(p);
        let cartons: i64 = rng.random_range(1..=12);
        // volume in litres, weight in kg
        let mut job = Job::new(i + 1, vec![cartons * 45, cartons * 9]);
        job.service = 180 + 30 * cartons;
        let (windows, priority) = match rng.random_range(0..100) {
            0..=19 => (vec![hours(8.0, 20.0)], 10), // nursing home
            20..=34 => (vec![hours(7.0, 10.0), hours(14.0, 16.5)], 8), // home-care base, between rounds
            35..=54 => (vec![hours(8.0, 11.5), hours(12.5, 15.5)], 4), // GP office, closed at lunch
            55..=79 => (vec![hours(8.0, 15.0)], 2),                    // school
            _ => (vec![hours(7.5, 16.5)], 2),                          // kindergarten
        };
        job.windows = windows;
        job.unserved_penalty = Job::priority_penalty(priority, 200_000); // 200 km per priority step
        jobs.push(job);
    }
    let matrix = travel::from_lat_lon(&points, 1.3, 40.0);
    let vehicles = (0..6)
        .map(|k| {
            let mut v = Vehicle::new(
                0,
                if k < 4 {
                    vec![9_000, 1_100]
                } else {
                    vec![14_000, 1_500]
                },
            );
            v.shift = hours(7.0, 17.0);
            v.max_duration = Some(9 * H);
            v.max_trips = 2;
            v.reload_time = 20 * 60;
            v.fixed_cost = 30_000; // a van used costs like 30 km driven
            v
        })
        .collect();
    Problem {
        dimensions: 2,
        jobs,
        vehicles,
        matrix,
    }
}

fn main() {
    let mut limits = vec![2.0, 30.0];
    let mut seed = 1u64;
    let mut stops = 200usize;
    let mut iterations: Vec<u64> = Vec::new();
    let mut solver_seed = None;
    let mut threads = 1;
    let mut runs = 1u64;
    let mut show_routes = false;
    let mut params = ppe_domain::routing::SearchParams::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--routes" {
            show_routes = true;
            continue;
        }
        let v = args.next().unwrap_or_default();
        match a.as_str() {
            "--time-limits" => limits = v.split(',').map(|x| x.parse().expect("number")).collect(),
            "--seed" => seed = v.parse().expect("integer"),
            "--threads" => threads = v.parse().expect("integer"),
            "--runs" => runs = v.parse().expect("integer"),
            "--solver-seed" => solver_seed = Some(v.parse().expect("integer")),
            "--stops" => stops = v.parse().expect("integer"),
            "--iterations" => {
                iterations = v.split(',').map(|x| x.parse().expect("integer")).collect()
            }
            // Tuning knobs for experiments.
            "--t-start" => params.t_start = v.parse().expect("number"),
            "--t-end" => params.t_end = v.parse().expect("number"),
            "--route-removal" => params.route_removal_rate = v.parse().expect("number"),
            "--fleet-share" => params.fleet_share = v.parse().expect("number"),
            "--trip-swap" => params.trip_swap_rate = v.parse().expect("number"),
            "--avg-removed" => params.avg_removed = v.parse().expect("number"),
            "--max-string" => params.max_string = v.parse().expect("number"),
            "--blink-rate" => params.blink_rate = v.parse().expect("number"),
            "--insertion-neighbours" => params.insertion_neighbours = v.parse().expect("integer"),
            _ => panic!("unknown option {a}"),
        }
    }
    let p = municipality(stops, seed);
    let mut first = None;
    println!(
        "| budget (s or iterations) | cost | distance km | vans | trips | unserved | iterations | time to best s | vs first |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let budgets: Vec<(Option<f64>, Option<u64>)> = if iterations.is_empty() {
        limits.iter().map(|&t| (Some(t), None)).collect()
    } else {
        iterations.iter().map(|&i| (None, Some(i))).collect()
    };
    // Costs of every run, per budget.
    let mut costs: Vec<Vec<i64>> = Vec::new();
    for (time_limit, max_iterations) in budgets {
        let mut these = Vec::new();
        for run in 0..runs {
            let started = Instant::now();
            let clock = || started.elapsed().as_secs_f64();
            let opts = SolveOptions {
                time_limit,
                max_iterations,
                seed: solver_seed.unwrap_or(seed).wrapping_add(run),
                threads,
                params: params.clone(),
            };
            let s = solve(&p, &opts, &clock).expect("valid problem");
            if show_routes {
                for (r, sch) in s.routes.iter().zip(&s.schedules) {
                    let trips: Vec<usize> = r.trips.iter().map(|t| t.len()).collect();
                    eprintln!(
                        "van {} trips {:?} km {:.1} h {:.2}",
                        r.vehicle,
                        trips,
                        sch.distance as f64 / 1000.0,
                        sch.duration as f64 / 3600.0
                    );
                }
            }
            let base = *first.get_or_insert(s.cost);
            let label = match (time_limit, max_iterations) {
                (Some(t), _) => format!("{t}"),
                (_, Some(i)) => format!("{i} it ({:.1} s)", s.stats.elapsed),
                _ => String::new(),
            };
            println!(
                "| {label} | {} | {:.1} | {} | {} | {} | {} | {:.2} | {:+.2} % |",
                s.cost,
                s.distance as f64 / 1000.0,
                s.routes.len(),
                s.routes.iter().map(|r| r.trips.len()).sum::<usize>(),
                s.unassigned.len(),
                s.stats.iterations,
                s.stats.time_to_best,
                100.0 * (s.cost - base) as f64 / base as f64
            );
            these.push(s.cost);
        }
        costs.push(these);
    }
    if runs > 1 {
        summarise(&costs);
    }
}

/// Mean, median and spread per budget, and how the first budget's runs compare with the mean of
/// the last one (one run against one run is mostly noise: two runs differ by up to 2 %).
fn summarise(costs: &[Vec<i64>]) {
    let mean = |xs: &[i64]| xs.iter().sum::<i64>() as f64 / xs.len() as f64;
    let Some(last) = costs.last().map(|c| mean(c)) else {
        return;
    };
    println!();
    println!("| budget # | runs | mean | median | min | max | mean vs last budget's mean |");
    println!("|---|---|---|---|---|---|---|");
    for (b, c) in costs.iter().enumerate() {
        let mut sorted = c.clone();
        sorted.sort_unstable();
        println!(
            "| {} | {} | {:.0} | {} | {} | {} | {:+.2} % |",
            b + 1,
            c.len(),
            mean(c),
            sorted[(sorted.len() - 1) / 2],
            sorted[0],
            sorted[sorted.len() - 1],
            100.0 * (mean(c) - last) / last
        );
    }
    let within = costs[0]
        .iter()
        .filter(|&&x| x as f64 <= 1.01 * last)
        .count();
    println!(
        "\nruns of the first budget within 1 % of the last budget's mean: {within} of {}",
        costs[0].len()
    );
}
