//! One vehicle's route during the search, with the bookkeeping that makes an insertion test O(1):
//! earliest departure after each stop (forward), latest feasible arrival at each stop (backward) and
//! the load of each trip. Waiting is allowed, so arriving earlier never hurts feasibility; that
//! monotonicity makes "latest arrival" well defined even with several windows per stop
//! (the idea of Savelsbergh 1992 and of the forward/backward slacks in Vidal et al. 2013).

use super::check::service_start;
use super::model::{Problem, TimeWindow, Vehicle};

/// Marker in `nodes` for a return to the depot to reload (the start of the next trip).
pub(crate) const RELOAD: u32 = u32::MAX;
/// "Infeasible" sentinel for latest-arrival times.
pub(crate) const NEVER: i64 = i64::MIN / 4;

/// Problem data laid out for the hot loops.
pub(crate) struct Ctx<'a> {
    pub p: &'a Problem,
    pub n: usize,
    pub dims: usize,
    pub job_loc: Vec<usize>,
    /// jobs × dims
    pub demand: Vec<i64>,
    /// One cost matrix per distinct (cost per distance, cost per time) pair among the vehicles.
    pub cost_mats: Vec<Vec<i64>>,
    /// The same matrices transposed: row `b` holds the costs of arriving at `b`, so that the
    /// insertion test reads two contiguous rows instead of a column.
    pub cost_mats_to: Vec<Vec<i64>>,
    pub veh_cost: Vec<usize>,
    /// Vehicles with equal attributes share a class; an empty route is tried once per class.
    pub veh_class: Vec<usize>,
    /// For each job, other jobs by increasing distance (capped).
    pub neighbours: Vec<Vec<u32>>,
    /// False when no time rule can bind (no windows, open shifts, no duration limit): then the
    /// schedule bookkeeping is skipped, which roughly halves the work on plain CVRP.
    pub timed: bool,
}

impl<'a> Ctx<'a> {
    pub fn new(p: &'a Problem, max_neighbours: usize) -> Self {
        let n = p.matrix.n;
        let dims = p.dimensions;
        let job_loc: Vec<usize> = p.jobs.iter().map(|j| j.location).collect();
        let demand = p
            .jobs
            .iter()
            .flat_map(|j| j.demand.iter().copied())
            .collect();
        let mut pairs: Vec<(i64, i64)> = Vec::new();
        let mut veh_cost = Vec::new();
        for v in &p.vehicles {
            let key = (v.cost_per_distance, v.cost_per_time);
            let idx = pairs.iter().position(|&k| k == key).unwrap_or_else(|| {
                pairs.push(key);
                pairs.len() - 1
            });
            veh_cost.push(idx);
        }
        let cost_mats: Vec<Vec<i64>> = pairs
            .iter()
            .map(|&(cd, ct)| {
                p.matrix
                    .distance
                    .iter()
                    .zip(&p.matrix.time)
                    .map(|(&d, &t)| cd * d + ct * t)
                    .collect()
            })
            .collect();
        let cost_mats_to = cost_mats
            .iter()
            .map(|cm| {
                let mut t = vec![0; n * n];
                for a in 0..n {
                    for b in 0..n {
                        t[b * n + a] = cm[a * n + b];
                    }
                }
                t
            })
            .collect();
        let mut classes: Vec<&Vehicle> = Vec::new();
        let mut veh_class = Vec::new();
        for v in &p.vehicles {
            let idx = classes.iter().position(|c| *c == v).unwrap_or_else(|| {
                classes.push(v);
                classes.len() - 1
            });
            veh_class.push(idx);
        }
        let nj = p.jobs.len();
        let k = max_neighbours.min(nj.saturating_sub(1));
        let neighbours = (0..nj)
            .map(|a| {
                let mut others: Vec<u32> = (0..nj as u32).filter(|&b| b as usize != a).collect();
                let la = job_loc[a];
                let key = |b: &u32| {
                    let lb = job_loc[*b as usize];
                    (p.matrix.dist(la, lb) + p.matrix.dist(lb, la), *b)
                };
                if others.len() > k {
                    others.select_nth_unstable_by_key(k, key);
                    others.truncate(k);
                }
                others.sort_by_key(key);
                others
            })
            .collect();
        let timed = p.jobs.iter().any(|j| !j.windows.is_empty())
            || p.vehicles.iter().any(|v| {
                v.max_duration.is_some()
                    || v.shift.end < TimeWindow::ALWAYS.end
                    || v.shift.start > 0
            });
        Ctx {
            timed,
            p,
            n,
            dims,
            job_loc,
            demand,
            cost_mats,
            cost_mats_to,
            veh_cost,
            veh_class,
            neighbours,
        }
    }

    #[inline]
    pub fn cost(&self, v: usize, a: usize, b: usize) -> i64 {
        self.cost_mats[self.veh_cost[v]][a * self.n + b]
    }

    #[inline]
    pub fn time(&self, a: usize, b: usize) -> i64 {
        self.p.matrix.time[a * self.n + b]
    }

    #[inline]
    pub fn dem(&self, j: usize) -> &[i64] {
        &self.demand[j * self.dims..(j + 1) * self.dims]
    }

    /// Latest arrival at `job` such that service can start by `latest_start` (NEVER if impossible).
    #[inline]
    pub fn latest_arrival(&self, job: usize, latest_start: i64) -> i64 {
        let ws = &self.p.jobs[job].windows;
        if ws.is_empty() {
            return latest_start;
        }
        ws.iter()
            .rev()
            .find(|w| w.start <= latest_start)
            .map_or(NEVER, |w| w.end.min(latest_start))
    }
}

/// Where a job would go: gap `gap` lies between positions `gap` and `gap + 1` (0 = start depot);
/// `new_trip` appends a reload and the job after the last stop instead.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Insertion {
    pub delta: i64,
    pub route: usize,
    pub gap: usize,
    pub new_trip: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct RouteState {
    pub vehicle: usize,
    /// Jobs and RELOAD markers, without the start and end depots.
    pub nodes: Vec<u32>,
    /// Position 0 = start depot, 1..=m = nodes, m + 1 = end depot.
    pub loc: Vec<usize>,
    pub dep: Vec<i64>,
    pub lat: Vec<i64>,
    /// Only kept under a duration limit (see `update_delay_caps`): waiting that a later arrival at
    /// each position would absorb before the route end moves, and the largest arrival delay at each
    /// position for which every stop from there on keeps its time window.
    pub wait_after: Vec<i64>,
    pub delay_cap: Vec<i64>,
    pub trip_of_gap: Vec<u32>,
    /// Cost of the arc leaving each position (gap `g` = arc from position `g` to `g + 1`).
    pub arc: Vec<i64>,
    /// trips × dims
    pub trip_load: Vec<i64>,
    pub n_trips: usize,
    pub n_jobs: usize,
    /// Arc costs plus the fixed cost when used.
    pub cost: i64,
    /// False when a move broke a rule: a removal can break a time rule (matrices need not obey the
    /// triangle inequality, and the departure convention makes the duration non-monotone), and a
    /// route moved to another vehicle can break its capacity. Such a move is rejected.
    pub feasible: bool,
}

impl RouteState {
    pub fn new(vehicle: usize) -> Self {
        RouteState {
            vehicle,
            nodes: Vec::new(),
            loc: Vec::new(),
            dep: Vec::new(),
            lat: Vec::new(),
            wait_after: Vec::new(),
            delay_cap: Vec::new(),
            trip_of_gap: Vec::new(),
            arc: Vec::new(),
            trip_load: Vec::new(),
            n_trips: 0,
            n_jobs: 0,
            cost: 0,
            feasible: true,
        }
    }

    /// Makes this route a copy of `other`, reusing this one's buffers.
    pub fn copy_from(&mut self, other: &RouteState) {
        self.vehicle = other.vehicle;
        self.nodes.clone_from(&other.nodes);
        self.loc.clone_from(&other.loc);
        self.dep.clone_from(&other.dep);
        self.lat.clone_from(&other.lat);
        self.wait_after.clone_from(&other.wait_after);
        self.delay_cap.clone_from(&other.delay_cap);
        self.trip_of_gap.clone_from(&other.trip_of_gap);
        self.arc.clone_from(&other.arc);
        self.trip_load.clone_from(&other.trip_load);
        self.n_trips = other.n_trips;
        self.n_jobs = other.n_jobs;
        self.cost = other.cost;
        self.feasible = other.feasible;
    }

    /// Drops reload markers that would leave a trip empty.
    pub fn normalize(&mut self) {
        let mut out = 0;
        for i in 0..self.nodes.len() {
            let x = self.nodes[i];
            if x == RELOAD && (out == 0 || self.nodes[out - 1] == RELOAD) {
                continue;
            }
            self.nodes[out] = x;
            out += 1;
        }
        self.nodes.truncate(out);
        if self.nodes.last() == Some(&RELOAD) {
            self.nodes.pop();
        }
    }

    /// Recomputes all cached data in O(route length).
    pub fn update(&mut self, ctx: &Ctx) {
        let v = &ctx.p.vehicles[self.vehicle];
        self.loc.clear();
        self.loc.push(v.start_location);
        self.loc.extend(self.nodes.iter().map(|&x| {
            if x == RELOAD {
                v.start_location
            } else {
                ctx.job_loc[x as usize]
            }
        }));
        self.loc.push(v.end_location);

        self.feasible = true;
        if ctx.timed {
            self.update_times(ctx);
        }
        self.update_loads(ctx);
    }

    /// Forward earliest departures and backward latest arrivals.
    fn update_times(&mut self, ctx: &Ctx) {
        let v = &ctx.p.vehicles[self.vehicle];
        let m = self.nodes.len();
        self.dep.resize(m + 2, 0);
        self.dep[0] = v.shift.start;
        let mut depart = v.shift.start;
        for i in 1..=m {
            let tt = ctx.time(self.loc[i - 1], self.loc[i]);
            let a = self.dep[i - 1] + tt;
            let x = self.nodes[i - 1];
            self.dep[i] = if x == RELOAD {
                a + v.reload_time
            } else {
                let start = service_start(ctx.p, x as usize, a).unwrap_or_else(|| {
                    self.feasible = false;
                    a
                });
                if i == 1 {
                    depart = depart.max(start - tt);
                }
                start + ctx.p.jobs[x as usize].service
            };
        }
        // Also kept for an empty route: the O(1) duration test measures delays against it.
        let end = self.dep[m] + ctx.time(self.loc[m], self.loc[m + 1]);
        self.dep[m + 1] = end;
        if m > 0 {
            self.feasible &=
                end <= v.shift.end && v.max_duration.is_none_or(|md| end - depart <= md);
        }
        self.lat.resize(m + 2, 0);
        self.lat[m + 1] = v.shift.end;
        for i in (1..=m).rev() {
            let x = self.nodes[i - 1];
            let next = self.lat[i + 1];
            self.lat[i] = if next == NEVER {
                NEVER
            } else if x == RELOAD {
                next - ctx.time(self.loc[i], self.loc[i + 1]) - v.reload_time
            } else {
                let ls =
                    next - ctx.time(self.loc[i], self.loc[i + 1]) - ctx.p.jobs[x as usize].service;
                ctx.latest_arrival(x as usize, ls)
            };
        }
        self.update_delay_caps(ctx);
    }

    /// Backward pass for the O(1) duration test (Savelsbergh 1992's forward time slack, extended
    /// to several windows per stop). An arrival delayed by `δ` at position `i` moves the route end
    /// by `max(0, δ − wait_after[i])`, as long as `δ ≤ delay_cap[i]`: within that bound every later
    /// stop keeps its window and each wait absorbs part of the delay. A larger delay makes some stop
    /// move to a later window, which `duration_ok` then simulates.
    fn update_delay_caps(&mut self, ctx: &Ctx) {
        let v = &ctx.p.vehicles[self.vehicle];
        if v.max_duration.is_none() {
            return;
        }
        let m = self.nodes.len();
        self.wait_after.resize(m + 2, 0);
        self.delay_cap.resize(m + 2, 0);
        self.wait_after[m + 1] = 0;
        self.delay_cap[m + 1] = i64::MAX / 4;
        self.delay_caps_from(ctx, m);
    }

    /// The delay-cap pass for positions `top` down to 1, those past `top` being current.
    fn delay_caps_from(&mut self, ctx: &Ctx, top: usize) {
        for i in (1..=top).rev() {
            let x = self.nodes[i - 1];
            if x == RELOAD {
                self.wait_after[i] = self.wait_after[i + 1];
                self.delay_cap[i] = self.delay_cap[i + 1];
                continue;
            }
            let job = &ctx.p.jobs[x as usize];
            let arrival = self.dep[i - 1] + ctx.time(self.loc[i - 1], self.loc[i]);
            let wait = (self.dep[i] - job.service - arrival).max(0);
            let window_end = if job.windows.is_empty() {
                i64::MAX / 4
            } else {
                job.windows
                    .iter()
                    .find(|w| w.end >= arrival)
                    .map_or(arrival, |w| w.end)
            };
            self.wait_after[i] = wait + self.wait_after[i + 1];
            self.delay_cap[i] = (window_end - arrival).min(wait + self.delay_cap[i + 1]);
        }
    }

    /// Trips, their loads, the cost, and the capacity part of `feasible`.
    fn update_loads(&mut self, ctx: &Ctx) {
        let v = &ctx.p.vehicles[self.vehicle];
        let m = self.nodes.len();
        self.trip_of_gap.resize(m + 2, 0);
        self.n_trips = usize::from(m > 0);
        self.trip_load.clear();
        self.trip_load.resize(ctx.dims, 0);
        self.n_jobs = 0;
        let mut t = 0u32;
        self.trip_of_gap[0] = 0;
        for i in 1..=m {
            let x = self.nodes[i - 1];
            if x == RELOAD {
                t += 1;
                self.n_trips += 1;
                self.trip_load.extend(std::iter::repeat_n(0, ctx.dims));
            } else {
                self.n_jobs += 1;
                let base = t as usize * ctx.dims;
                for (d, q) in ctx.dem(x as usize).iter().enumerate() {
                    self.trip_load[base + d] += q;
                }
            }
            self.trip_of_gap[i] = t;
        }
        self.trip_of_gap[m + 1] = t;
        // Capacity and trip count can break when a whole route moves to another vehicle.
        self.feasible &= self.n_trips <= v.max_trips as usize
            && self
                .trip_load
                .chunks(ctx.dims.max(1))
                .all(|l| l.iter().zip(&v.capacity).all(|(a, c)| a <= c));
        self.arc.clear();
        self.arc.extend(
            self.loc
                .windows(2)
                .map(|w| ctx.cost(self.vehicle, w[0], w[1])),
        );
        self.cost = if m == 0 {
            0
        } else {
            v.fixed_cost + self.arc.iter().sum::<i64>()
        };
    }

    /// Best feasible insertion of job `u` into this route that beats `best.delta`; `blink` is the
    /// probability of skipping a slot (SISR's "blinks", Christiaens & Vanden Berghe 2020).
    pub fn best_insertion(
        &self,
        ctx: &Ctx,
        route_idx: usize,
        u: usize,
        best: &mut Insertion,
        rng: &mut super::rng::Rng,
        blink: f64,
    ) {
        let vi = self.vehicle;
        let v = &ctx.p.vehicles[vi];
        let lu = ctx.job_loc[u];
        let job = &ctx.p.jobs[u];
        let dem = ctx.dem(u);
        let m = self.nodes.len();
        let fixed = if m == 0 { v.fixed_cost } else { 0 };
        let cm = &ctx.cost_mats[ctx.veh_cost[vi]];
        let n = ctx.n;
        // Which trips have room for `u` (bit t); routes with more than 64 trips are checked per slot.
        let mut room = u64::MAX;
        if self.n_trips <= 64 {
            room = 0;
            for t in 0..self.n_trips.max(1) {
                if self.trip_has_room(ctx, t, dem, v) {
                    room |= 1 << t;
                }
            }
        }
        let can_add_trip = m > 0 && self.n_trips < v.max_trips as usize;
        if room == 0 && !can_add_trip {
            return;
        }
        let into_u = &ctx.cost_mats_to[ctx.veh_cost[vi]][lu * n..(lu + 1) * n];
        let from_u = &cm[lu * n..(lu + 1) * n];
        for (gap, (w, &arc)) in self.loc.windows(2).zip(&self.arc).enumerate() {
            let delta = into_u[w[0]] + from_u[w[1]] - arc + fixed;
            if delta >= best.delta {
                continue;
            }
            let trip = self.trip_of_gap[gap] as usize;
            if (trip < 64 && room & (1 << trip) == 0)
                || (trip >= 64 && !self.trip_has_room(ctx, trip, dem, v))
            {
                continue;
            }
            if blink > 0.0 && rng.unit() < blink {
                continue;
            }
            if !self.time_ok(ctx, u, gap) {
                continue;
            }
            *best = Insertion {
                delta,
                route: route_idx,
                gap,
                new_trip: false,
            };
        }
        if can_add_trip {
            // A new trip after reloading at the start depot.
            let (last, s, e) = (self.loc[m], v.start_location, v.end_location);
            let delta = cm[last * n + s] + cm[s * n + lu] + cm[lu * n + e] - cm[last * n + e];
            if delta < best.delta
                && (0..ctx.dims).all(|d| dem[d] <= v.capacity[d])
                && !(blink > 0.0 && rng.unit() < blink)
            {
                let arr = if ctx.timed {
                    self.dep[m] + ctx.time(last, s) + v.reload_time + ctx.time(s, lu)
                } else {
                    0
                };
                let fits = !ctx.timed
                    || service_start(ctx.p, u, arr).is_some_and(|start| {
                        start + job.service + ctx.time(lu, e) <= v.shift.end
                            && (v.max_duration.is_none() || self.duration_ok(ctx, u, m, true))
                    });
                if fits {
                    *best = Insertion {
                        delta,
                        route: route_idx,
                        gap: m,
                        new_trip: true,
                    };
                }
            }
        }
    }

    /// Whether `u` fits between positions `gap` and `gap + 1`: trip load, the window at `u`, the
    /// latest arrival downstream, and (by full simulation) the maximum duration.
    #[cfg(test)]
    pub fn slot_ok(&self, ctx: &Ctx, u: usize, gap: usize) -> bool {
        let v = &ctx.p.vehicles[self.vehicle];
        self.trip_has_room(ctx, self.trip_of_gap[gap] as usize, ctx.dem(u), v)
            && self.time_ok(ctx, u, gap)
    }

    #[inline]
    fn trip_has_room(&self, ctx: &Ctx, trip: usize, dem: &[i64], v: &Vehicle) -> bool {
        let load = &self.trip_load[trip * ctx.dims..(trip + 1) * ctx.dims];
        load.iter()
            .zip(dem)
            .zip(&v.capacity)
            .all(|((l, d), c)| l + d <= *c)
    }

    /// The time part of `slot_ok`.
    #[inline]
    fn time_ok(&self, ctx: &Ctx, u: usize, gap: usize) -> bool {
        if !ctx.timed {
            return true;
        }
        let v = &ctx.p.vehicles[self.vehicle];
        let (a, b) = (self.loc[gap], self.loc[gap + 1]);
        let lu = ctx.job_loc[u];
        let arr = self.dep[gap] + ctx.time(a, lu);
        let Some(start) = service_start(ctx.p, u, arr) else {
            return false;
        };
        if start + ctx.p.jobs[u].service + ctx.time(lu, b) > self.lat[gap + 1] {
            return false;
        }
        v.max_duration.is_none() || self.duration_ok(ctx, u, gap, false)
    }

    /// The maximum-duration rule for `u` inserted at `gap` (or on a new trip at the end). Its
    /// departure convention (see `check::schedule`) depends on the first stop. The new route end
    /// comes in O(1) from the delay caps; otherwise this re-times the route from the slot on,
    /// stopping as soon as the schedule meets the old one (times only move later, so from there on
    /// nothing changes). Allocation-free.
    fn duration_ok(&self, ctx: &Ctx, u: usize, gap: usize, new_trip: bool) -> bool {
        let v = &ctx.p.vehicles[self.vehicle];
        let Some(max) = v.max_duration else {
            return true;
        };
        let m = self.nodes.len();
        let lu = ctx.job_loc[u];
        let mut t = self.dep[gap];
        let mut loc = self.loc[gap];
        if new_trip {
            t += ctx.time(loc, v.start_location) + v.reload_time;
            loc = v.start_location;
        }
        let tt = ctx.time(loc, lu);
        let start_u = service_start(ctx.p, u, t + tt).unwrap_or(t + tt);
        let depart = if gap == 0 && !new_trip {
            v.shift.start.max(start_u - tt)
        } else {
            // The first stop is unchanged: its service start is its departure minus its service.
            let first = self.nodes[0] as usize;
            let start_first = self.dep[1] - ctx.p.jobs[first].service;
            v.shift
                .start
                .max(start_first - ctx.time(v.start_location, self.loc[1]))
        };
        t = start_u + ctx.p.jobs[u].service;
        loc = lu;
        if !new_trip {
            let delay = t + ctx.time(lu, self.loc[gap + 1])
                - (self.dep[gap] + ctx.time(self.loc[gap], self.loc[gap + 1]));
            if (0..=self.delay_cap[gap + 1]).contains(&delay) {
                let end = self.dep[m + 1] + (delay - self.wait_after[gap + 1]).max(0);
                return end - depart <= max;
            }
            // An earlier arrival (no triangle inequality) or a window change: simulate.
            for i in gap + 1..=m {
                let a = t + ctx.time(loc, self.loc[i]);
                let x = self.nodes[i - 1];
                t = if x == RELOAD {
                    a + v.reload_time
                } else {
                    service_start(ctx.p, x as usize, a).unwrap_or(a)
                        + ctx.p.jobs[x as usize].service
                };
                loc = self.loc[i];
                if t == self.dep[i] {
                    return self.dep[m + 1] - depart <= max;
                }
            }
        }
        let end = t + ctx.time(loc, v.end_location);
        end - depart <= max
    }

    /// Inserts `u` as found by `best_insertion`. A slot inside an existing trip is patched in
    /// place (times are recomputed only downstream for departures and upstream for latest
    /// arrivals); a new trip or a first stop recomputes everything.
    pub fn apply(&mut self, ins: &Insertion, u: usize, ctx: &Ctx) {
        if ins.new_trip || self.nodes.is_empty() {
            if ins.new_trip {
                self.nodes.push(RELOAD);
            }
            self.nodes.push(u as u32);
            self.update(ctx);
            return;
        }
        let g = ins.gap;
        self.nodes.insert(g, u as u32);
        let lu = ctx.job_loc[u];
        self.loc.insert(g + 1, lu);
        self.arc[g] = ctx.cost(self.vehicle, self.loc[g], lu);
        self.arc
            .insert(g + 1, ctx.cost(self.vehicle, lu, self.loc[g + 2]));
        let t = self.trip_of_gap[g];
        self.trip_of_gap.insert(g + 1, t);
        let base = t as usize * ctx.dims;
        for (l, q) in self.trip_load[base..base + ctx.dims]
            .iter_mut()
            .zip(ctx.dem(u))
        {
            *l += q;
        }
        self.n_jobs += 1;
        self.cost += ins.delta;
        // `feasible` is unchanged: the slot was checked in full.
        if ctx.timed {
            let v = &ctx.p.vehicles[self.vehicle];
            let m = self.nodes.len();
            // After the inserts, every other position holds its stop's old value. A stop
            // whose departure (or latest arrival) comes out as before ends the pass: the
            // stops beyond it cannot change either, since waiting absorbed the delay.
            self.dep.insert(g + 1, 0);
            self.lat.insert(g + 1, 0);
            let mut unchanged_from = m + 1;
            for i in g + 1..=m {
                let a = self.dep[i - 1] + ctx.time(self.loc[i - 1], self.loc[i]);
                let x = self.nodes[i - 1];
                let dep = if x == RELOAD {
                    a + v.reload_time
                } else {
                    service_start(ctx.p, x as usize, a).unwrap_or(a)
                        + ctx.p.jobs[x as usize].service
                };
                if i > g + 1 && dep == self.dep[i] {
                    unchanged_from = i;
                    break;
                }
                self.dep[i] = dep;
            }
            if unchanged_from > m {
                self.dep[m + 1] = self.dep[m] + ctx.time(self.loc[m], self.loc[m + 1]);
            }
            for i in (1..=g + 1).rev() {
                let x = self.nodes[i - 1];
                let next = self.lat[i + 1];
                let lat = if next == NEVER {
                    NEVER
                } else if x == RELOAD {
                    next - ctx.time(self.loc[i], self.loc[i + 1]) - v.reload_time
                } else {
                    let ls = next
                        - ctx.time(self.loc[i], self.loc[i + 1])
                        - ctx.p.jobs[x as usize].service;
                    ctx.latest_arrival(x as usize, ls)
                };
                if i <= g && lat == self.lat[i] {
                    break;
                }
                self.lat[i] = lat;
            }
            if v.max_duration.is_some() {
                // Delay caps at and past `unchanged_from + 1` depend only on departures
                // that did not change.
                self.wait_after.insert(g + 1, 0);
                self.delay_cap.insert(g + 1, 0);
                self.delay_caps_from(ctx, unchanged_from.min(m));
            }
        }
    }

    pub fn jobs(&self) -> impl Iterator<Item = usize> + '_ {
        self.nodes
            .iter()
            .filter(|&&x| x != RELOAD)
            .map(|&x| x as usize)
    }

    /// Trips as lists of jobs, for the output.
    pub fn trips(&self) -> Vec<Vec<usize>> {
        self.nodes
            .split(|&x| x == RELOAD)
            .filter(|t| !t.is_empty())
            .map(|t| t.iter().map(|&x| x as usize).collect())
            .collect()
    }
}
