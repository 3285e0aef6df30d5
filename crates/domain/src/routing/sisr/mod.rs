//! The search: Slack Induction by String Removals (Christiaens & Vanden Berghe 2020, "Slack
//! induction by string removals for vehicle routing problems", Transportation Science 54(2)).
//! Ruin removes a few strings of consecutive stops from routes near a random seed stop; recreate
//! puts the removed (and any unserved) jobs back one by one at their cheapest feasible slot, skipping
//! slots at random ("blinks"); simulated annealing decides whether to keep the result.
//! Every state the search keeps is feasible: insertions are checked exactly in O(1), and a move
//! whose removals broke a time rule is undone.

mod fleet;
mod parallel;
mod recreate;
mod ruin;

use super::rng::Rng;
use super::route_state::{Ctx, RouteState};
use fleet::Snapshot;
pub(crate) use parallel::search;

const NONE: u32 = u32::MAX;

/// Tuning knobs; the defaults are the paper's, with the temperature scaled to the instance.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SearchParams {
    /// Average number of jobs removed per iteration (c̄).
    pub avg_removed: f64,
    /// Longest string removed from one route (L_max).
    pub max_string: f64,
    /// Probability that a string keeps a middle part ("split string").
    pub split_rate: f64,
    /// Chance of extending the kept part by one more stop is 1 − split_depth.
    pub split_depth: f64,
    /// Probability of skipping an insertion slot.
    pub blink_rate: f64,
    /// Start and final temperature, as fractions of the average arc cost of the first solution.
    /// A hot start (2 average arcs) measured better than 0.5 on the time-windowed municipality
    /// instance at short budgets: with few iterations the search otherwise settles in the basin of
    /// its first solution.
    pub t_start: f64,
    pub t_end: f64,
    /// Recreate looks first at routes that hold one of this many nearest jobs.
    pub insertion_neighbours: usize,
    /// With a mixed fleet: probability that an iteration first hands a whole route to another
    /// kind of vehicle (greedy insertion alone rarely picks the bigger, dearer van).
    pub vehicle_swap_rate: f64,
    /// With second trips: probability that an iteration first exchanges two trips (of two vans,
    /// or of one van, which then drives them in the other order).
    pub trip_swap_rate: f64,
    /// Probability that a recreate inserts optional jobs wherever they fit, even when the detour
    /// costs more than leaving them unserved.
    pub force_insert_rate: f64,
    /// Share of iterations whose recreate skips half of the slots (a strongly randomised rebuild).
    pub heavy_blink_share: f64,
    /// Share of iterations that remove one whole route instead of strings.
    pub route_removal_rate: f64,
    /// Share of the budget spent first on using fewer vehicles (see `fleet`), when vehicles have a
    /// fixed cost.
    pub fleet_share: f64,
}

impl Default for SearchParams {
    fn default() -> Self {
        SearchParams {
            avg_removed: 10.0,
            max_string: 10.0,
            split_rate: 0.5,
            split_depth: 0.01,
            blink_rate: 0.01,
            t_start: 2.0,
            t_end: 0.01,
            insertion_neighbours: 40,
            vehicle_swap_rate: 0.1,
            trip_swap_rate: 0.5,
            force_insert_rate: 0.2,
            heavy_blink_share: 0.05,
            route_removal_rate: 0.01,
            fleet_share: 0.1,
        }
    }
}

/// When to stop. Progress (which cools the annealing) is the larger of the two fractions used.
pub(crate) struct Budget<'c> {
    pub time_limit: Option<f64>,
    pub max_iterations: Option<u64>,
    pub clock: &'c (dyn Fn() -> f64 + Sync),
}

impl Budget<'_> {
    /// The share of the budget spent after `it` iterations, or None when it is spent (or when
    /// there is no limit at all).
    fn progress(&self, it: u64) -> Option<f64> {
        if self.time_limit.is_none() && self.max_iterations.is_none() {
            return None;
        }
        let mut progress: f64 = 0.0;
        if let Some(tl) = self.time_limit {
            let now = (self.clock)();
            if now >= tl {
                return None;
            }
            progress = progress.max(now / tl);
        }
        if let Some(mi) = self.max_iterations {
            if it >= mi {
                return None;
            }
            progress = progress.max(it as f64 / mi as f64);
        }
        Some(progress)
    }
}

/// One annealing chain's progress: its current cost, its best solution and its schedule.
pub(crate) struct Chain {
    cur: i64,
    best_cost: i64,
    best: Snapshot,
    time_to_best: f64,
    it: u64,
    t0: f64,
    t1: f64,
    fleet_share: f64,
    searchable: bool,
}

/// The best solution found, as routes (nodes per vehicle) and unserved jobs.
pub(crate) struct Found {
    pub routes: Vec<RouteState>,
    pub unassigned: Vec<usize>,
    pub cost: i64,
    pub iterations: u64,
    pub time_to_best: f64,
}

pub(crate) struct Search<'a> {
    ctx: Ctx<'a>,
    params: SearchParams,
    routes: Vec<RouteState>,
    route_of: Vec<u32>,
    unassigned: Vec<u32>,
    rng: Rng,
    // Undo log of the current iteration.
    stamp: u64,
    touched: Vec<u64>,
    /// Routes as they were before this iteration touched them (restored whole on undo,
    /// which is cheaper than recomputing them from their stops).
    saved: Vec<(usize, RouteState)>,
    /// Buffers of earlier iterations' saved routes, reused.
    spare: Vec<RouteState>,
    saved_unassigned: Vec<u32>,
    // Scratch.
    removed_flag: Vec<bool>,
    cand_stamp: Vec<u64>,
    cand_buf: Vec<u32>,
    stamp_c: u64,
    size_key: Vec<f64>,
    depot_dist: Vec<i64>,
    penalty: Vec<i64>,
    mixed_fleet: bool,
    multi_trip: bool,
    /// Set for one recreate: insert into used routes only.
    no_new_routes: bool,
    /// Unused vehicles per class; recreate tries the lowest-numbered one of each class.
    empty: Vec<std::collections::BTreeSet<usize>>,
}

impl<'a> Search<'a> {
    pub fn new(problem: &'a crate::routing::Problem, params: SearchParams, seed: u64) -> Self {
        let ctx = Ctx::new(problem, 100.max(params.insertion_neighbours));
        let nj = problem.jobs.len();
        let nr = problem.vehicles.len();
        let routes = (0..nr).map(RouteState::new).map(|mut r| {
            r.update(&ctx);
            r
        });
        let routes: Vec<RouteState> = routes.collect();
        // Relative size of a job: its largest share of some dimension's largest capacity.
        let max_cap: Vec<i64> = (0..problem.dimensions)
            .map(|d| {
                problem
                    .vehicles
                    .iter()
                    .map(|v| v.capacity[d])
                    .max()
                    .unwrap_or(1)
                    .max(1)
            })
            .collect();
        let size_key = (0..nj)
            .map(|j| {
                ctx.dem(j)
                    .iter()
                    .zip(&max_cap)
                    .map(|(&q, &c)| q as f64 / c as f64)
                    .fold(0.0, f64::max)
            })
            .collect();
        let depot = problem.vehicles.first().map_or(0, |v| v.start_location);
        let depot_dist = problem
            .jobs
            .iter()
            .map(|j| problem.matrix.dist(depot, j.location))
            .collect();
        let penalty = problem.jobs.iter().map(|j| j.unserved_penalty).collect();
        let n_classes = ctx.veh_class.iter().copied().max().map_or(0, |c| c + 1);
        let ctx_class = ctx.veh_class.clone();
        Search {
            ctx,
            params,
            routes,
            route_of: vec![NONE; nj],
            unassigned: (0..nj as u32).collect(),
            rng: Rng::new(seed),
            stamp: 0,
            touched: vec![0; nr],
            saved: Vec::new(),
            spare: Vec::new(),
            saved_unassigned: Vec::new(),
            removed_flag: vec![false; nj],
            cand_stamp: vec![0; nr + 1],
            cand_buf: Vec::new(),
            stamp_c: 0,
            size_key,
            depot_dist,
            penalty,
            mixed_fleet: n_classes > 1,
            multi_trip: problem.vehicles.iter().any(|v| v.max_trips > 1),
            no_new_routes: false,
            empty: {
                let mut e = vec![std::collections::BTreeSet::new(); n_classes];
                for r in 0..nr {
                    e[ctx_class[r]].insert(r);
                }
                e
            },
        }
    }

    fn total_cost(&self) -> i64 {
        self.routes.iter().map(|r| r.cost).sum::<i64>()
            + self
                .unassigned
                .iter()
                .map(|&j| self.penalty[j as usize])
                .sum::<i64>()
    }

    fn touch(&mut self, r: usize) {
        if self.touched[r] != self.stamp {
            self.touched[r] = self.stamp;
            let mut copy = self.spare.pop().unwrap_or_else(|| RouteState::new(r));
            copy.copy_from(&self.routes[r]);
            self.saved.push((r, copy));
        }
    }

    fn begin(&mut self) {
        self.stamp += 1;
        self.spare
            .extend(self.saved.drain(..).map(|(_, copy)| copy));
        self.saved_unassigned.clone_from(&self.unassigned);
    }

    fn undo(&mut self) {
        let saved = std::mem::take(&mut self.saved);
        for (r, _) in &saved {
            for j in self.routes[*r].jobs() {
                self.route_of[j] = NONE;
            }
        }
        for (r, mut copy) in saved {
            std::mem::swap(&mut self.routes[r], &mut copy);
            self.spare.push(copy);
            self.sync_empty(r);
            for j in self.routes[r].jobs() {
                self.route_of[j] = r as u32;
            }
        }
        std::mem::swap(&mut self.unassigned, &mut self.saved_unassigned);
        for &j in &self.unassigned {
            self.route_of[j as usize] = NONE;
        }
    }

    fn touched_feasible(&self) -> bool {
        self.saved.iter().all(|(r, _)| self.routes[*r].feasible)
    }
}

impl Search<'_> {
    /// Keeps `empty` in step after route `r` changed.
    fn sync_empty(&mut self, r: usize) {
        let c = self.ctx.veh_class[r];
        if self.routes[r].n_jobs == 0 {
            self.empty[c].insert(r);
        } else {
            self.empty[c].remove(&r);
        }
    }

    fn stamp_candidates(&mut self) {
        self.stamp_c += 1;
    }

    /// Builds a first solution, then anneals until the budget is spent.
    pub fn run(mut self, budget: &Budget) -> Found {
        let mut chain = self.start(budget);
        while self.anneal(budget, &mut chain, u64::MAX) {}
        self.finish(chain)
    }

    /// Builds a first solution, sets the temperatures from it and, with fixed vehicle costs, runs
    /// the fleet phase.
    pub(super) fn start(&mut self, budget: &Budget) -> Chain {
        self.begin();
        self.recreate(0.0, None);
        let cur = self.total_cost();

        // Temperatures scale with the average arc of the first solution, so one setting suits
        // costs in metres, tenths or plain units alike.
        let served = self.route_of.len() - self.unassigned.len();
        let used = self.routes.iter().filter(|r| r.n_jobs > 0).count();
        let travel: i64 = self
            .routes
            .iter()
            .map(|r| {
                r.cost
                    - if r.n_jobs > 0 {
                        self.ctx.p.vehicles[r.vehicle].fixed_cost
                    } else {
                        0
                    }
            })
            .sum();
        let avg_arc = (travel as f64 / (served + used).max(1) as f64).max(1e-9);
        // Nothing to search without jobs and vehicles.
        let searchable = !self.routes.is_empty() && !self.route_of.is_empty();
        let fleet_share = if searchable && self.ctx.p.vehicles.iter().all(|v| v.fixed_cost > 0) {
            self.params.fleet_share.clamp(0.0, 0.9)
        } else {
            0.0
        };
        let mut chain = Chain {
            cur,
            best_cost: cur,
            best: self.snapshot(),
            time_to_best: (budget.clock)(),
            it: 0,
            t0: self.params.t_start * avg_arc,
            t1: self.params.t_end * avg_arc,
            fleet_share,
            searchable,
        };
        if fleet_share > 0.0 {
            self.reduce_fleet(budget, fleet_share, &mut chain.it);
            chain.cur = self.total_cost();
            self.keep_if_best(&mut chain, budget);
            // A phase that ran out of vehicles to spare hands the rest of its share on.
            chain.fleet_share = budget
                .progress(chain.it)
                .map_or(fleet_share, |p| p.min(fleet_share));
        }
        chain
    }

    /// Anneals for at most `steps` iterations; false once the budget is spent.
    pub(super) fn anneal(&mut self, budget: &Budget, chain: &mut Chain, steps: u64) -> bool {
        for _ in 0..steps {
            let Some(progress) = budget.progress(chain.it).filter(|_| chain.searchable) else {
                return false;
            };
            // The annealing cools over the part of the budget left after the fleet phase.
            let progress = ((progress - chain.fleet_share) / (1.0 - chain.fleet_share)).max(0.0);
            chain.it += 1;
            let temp = chain.t0 * (chain.t1 / chain.t0).powf(progress);
            self.begin();
            if self.mixed_fleet && self.rng.unit() < self.params.vehicle_swap_rate {
                self.swap_vehicles();
            }
            if self.multi_trip && self.rng.unit() < self.params.trip_swap_rate {
                self.swap_trips();
                // Most exchanges break a window or the driver day; dropping those at once keeps
                // the iteration's ruin and recreate from being spent on a plan that must be undone.
                if !self.touched_feasible() {
                    self.undo();
                    self.begin();
                }
            }
            // Now and then empty a whole route and rebuild without opening vehicles: the only
            // way for string removals to lose a route (SISR's fleet-minimisation idea).
            if self.rng.unit() < self.params.route_removal_rate && self.remove_route() {
                self.no_new_routes = true;
            } else {
                self.ruin();
            }
            // Now and then blink heavily: on small or tightly packed plans the cheapest-slot rule
            // is nearly deterministic, and only a looser recreate reaches other packings.
            let blink = if self.rng.unit() < self.params.heavy_blink_share {
                0.5
            } else {
                self.params.blink_rate
            };
            self.recreate(blink, Some(2 * self.params.avg_removed as usize));
            self.no_new_routes = false;
            let new = self.total_cost();
            let threshold = chain.cur as f64 - temp * self.rng.unit().max(1e-300).ln();
            if self.touched_feasible() && (new as f64) < threshold {
                chain.cur = new;
                self.keep_if_best(chain, budget);
            } else {
                self.undo();
            }
        }
        true
    }

    fn keep_if_best(&self, chain: &mut Chain, budget: &Budget) {
        if chain.cur < chain.best_cost {
            chain.best_cost = chain.cur;
            chain.best = self.snapshot();
            chain.time_to_best = (budget.clock)();
        }
    }

    /// Continues from another chain's current solution.
    pub(super) fn adopt(&mut self, s: &Snapshot, chain: &mut Chain) {
        self.restore(s);
        chain.cur = self.total_cost();
    }

    /// The best solution of the chain, with fresh route states.
    pub(super) fn finish(self, chain: Chain) -> Found {
        let (nodes, unassigned) = chain.best;
        let routes = nodes
            .into_iter()
            .enumerate()
            .map(|(v, n)| {
                let mut r = RouteState::new(v);
                r.nodes = n;
                r.update(&self.ctx);
                r
            })
            .collect();
        Found {
            routes,
            unassigned: unassigned.into_iter().map(|j| j as usize).collect(),
            cost: chain.best_cost,
            iterations: chain.it,
            time_to_best: chain.time_to_best,
        }
    }
}
