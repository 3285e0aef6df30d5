//! SISR's ruin: strings of consecutive stops removed from routes near a random seed stop
//! (Christiaens & Vanden Berghe 2020, section 5.2); and two moves of whole plans that come before
//! it: handing a route to another kind of vehicle, and exchanging trips between vans.

use super::{NONE, Search};
use crate::routing::route_state::RELOAD;

impl Search<'_> {
    /// SISR ruin: strings around a random seed job, at most one string per route.
    pub(super) fn ruin(&mut self) {
        let nj = self.route_of.len();
        let served = nj - self.unassigned.len();
        if served == 0 {
            return;
        }
        let used = self.routes.iter().filter(|r| r.n_jobs > 0).count().max(1);
        let p = &self.params;
        let ls_max = p.max_string.min(served as f64 / used as f64);
        let ks_max = 4.0 * p.avg_removed / (1.0 + ls_max) - 1.0;
        let ks = (self.rng.unit() * ks_max.max(0.0)) as usize + 1;
        // Half of the time leave at least one route untouched: ruining every route of a small
        // plan makes the recreate a plain greedy rebuild, which always lands on the same plan.
        let ks = if self.rng.unit() < 0.5 {
            ks.min(used.saturating_sub(1).max(1))
        } else {
            ks
        };
        let seed = loop {
            let j = self.rng.below(nj);
            if self.route_of[j] != NONE {
                break j;
            }
        };
        let mut ruined: Vec<usize> = Vec::with_capacity(ks);
        let nbrs = std::mem::take(&mut self.ctx.neighbours[seed]);
        for &c in std::iter::once(&(seed as u32)).chain(nbrs.iter()) {
            if ruined.len() >= ks {
                break;
            }
            let r = self.route_of[c as usize];
            if r == NONE || ruined.contains(&(r as usize)) {
                continue;
            }
            let r = r as usize;
            let card = self.routes[r].n_jobs;
            let l = (self.rng.unit() * ls_max.min(card as f64)) as usize + 1;
            let l = l.min(card);
            self.remove_string(r, c as usize, l);
            ruined.push(r);
        }
        self.ctx.neighbours[seed] = nbrs;
    }

    fn remove_string(&mut self, r: usize, c: usize, l: usize) {
        self.touch(r);
        let jobs: Vec<usize> = self.routes[r].jobs().collect();
        let card = jobs.len();
        let idx = jobs.iter().position(|&j| j == c).unwrap_or(0);
        let split = l < card && self.rng.unit() < self.params.split_rate;
        let (mut kept, mut total) = (0, l);
        if split {
            kept = 1;
            while l + kept < card && self.rng.unit() > self.params.split_depth {
                kept += 1;
            }
            total = l + kept;
        }
        let lo = (idx + 1).saturating_sub(total);
        let hi = idx.min(card - total);
        let st = self.rng.between(lo, hi);
        let keep_at = if split {
            st + self.rng.between(0, l)
        } else {
            usize::MAX
        };
        for (k, &j) in jobs.iter().enumerate().skip(st).take(total) {
            if k >= keep_at && k < keep_at + kept {
                continue;
            }
            self.removed_flag[j] = true;
            self.route_of[j] = NONE;
            self.unassigned.push(j as u32);
        }
        let flags = &self.removed_flag;
        self.routes[r]
            .nodes
            .retain(|&x| x == RELOAD || !flags[x as usize]);
        for &j in &jobs[st..st + total] {
            self.removed_flag[j] = false;
        }
        self.routes[r].normalize();
        self.routes[r].update(&self.ctx);
        self.sync_empty(r);
    }

    /// Exchanges the stops of a used route with those of a vehicle of another kind (possibly empty).
    pub(super) fn swap_vehicles(&mut self) {
        let nr = self.routes.len();
        let a = self.rng.below(nr);
        if self.routes[a].n_jobs == 0 {
            return;
        }
        let b = self.rng.below(nr);
        if self.ctx.veh_class[a] == self.ctx.veh_class[b] {
            return;
        }
        self.touch(a);
        self.touch(b);
        let (na, nb) = (
            std::mem::take(&mut self.routes[a].nodes),
            std::mem::take(&mut self.routes[b].nodes),
        );
        self.routes[a].nodes = nb;
        self.routes[b].nodes = na;
        for r in [a, b] {
            self.routes[r].update(&self.ctx);
            self.sync_empty(r);
            for j in self.routes[r].jobs() {
                self.route_of[j] = r as u32;
            }
        }
    }

    /// Exchanges one trip of a used route with one trip of another used route, or two trips of one
    /// route: the heavy trip goes to the bigger van, the morning trip to the van that is free in
    /// the morning. The cost stays the same, but the slack moves, and string removals would reach
    /// such a plan only stop by stop, through worse plans.
    pub(super) fn swap_trips(&mut self) {
        let nr = self.routes.len();
        let (a, b) = (self.rng.below(nr), self.rng.below(nr));
        if self.routes[a].n_jobs == 0 || self.routes[b].n_jobs == 0 {
            return;
        }
        let ta = self.rng.below(self.routes[a].n_trips);
        let tb = self.rng.below(self.routes[b].n_trips);
        if (a, ta) == (b, tb) {
            return;
        }
        // Loads are known per trip: skip an exchange that overfills a van before re-timing.
        let dims = self.ctx.dims;
        let fits = |from: usize, t: usize, to: usize| {
            let load = &self.routes[from].trip_load[t * dims..(t + 1) * dims];
            let cap = &self.ctx.p.vehicles[self.routes[to].vehicle].capacity;
            load.iter().zip(cap).all(|(l, c)| l <= c)
        };
        if !(fits(a, ta, b) && fits(b, tb, a)) {
            return;
        }
        self.touch(a);
        self.touch(b);
        let ra = trip_range(&self.routes[a].nodes, ta);
        let rb = trip_range(&self.routes[b].nodes, tb);
        if a == b {
            // One van's trips change order.
            let (x, y) = if ra.start < rb.start {
                (ra, rb)
            } else {
                (rb, ra)
            };
            let n = &self.routes[a].nodes;
            let mut new = Vec::with_capacity(n.len());
            for part in [0..x.start, y.clone(), x.end..y.start, x, y.end..n.len()] {
                new.extend_from_slice(&n[part]);
            }
            self.routes[a].nodes = new;
            self.routes[a].update(&self.ctx);
            return;
        }
        let (na, nb) = (&self.routes[a].nodes, &self.routes[b].nodes);
        let new_a = [&na[..ra.start], &nb[rb.clone()], &na[ra.end..]].concat();
        let new_b = [&nb[..rb.start], &na[ra], &nb[rb.end..]].concat();
        for (r, nodes) in [(a, new_a), (b, new_b)] {
            self.routes[r].nodes = nodes;
            self.routes[r].update(&self.ctx);
            for j in self.routes[r].jobs() {
                self.route_of[j] = r as u32;
            }
        }
    }

    /// Unserves every job of one random used route (when at least two are used).
    pub(super) fn remove_route(&mut self) -> bool {
        let used: Vec<usize> = (0..self.routes.len())
            .filter(|&r| self.routes[r].n_jobs > 0)
            .collect();
        if used.len() < 2 {
            return false;
        }
        let r = used[self.rng.below(used.len())];
        self.touch(r);
        let jobs: Vec<usize> = self.routes[r].jobs().collect();
        for j in jobs {
            self.route_of[j] = NONE;
            self.unassigned.push(j as u32);
        }
        self.routes[r].nodes.clear();
        self.routes[r].update(&self.ctx);
        self.sync_empty(r);
        true
    }
}

/// Positions of trip `t` in a route's nodes (reload markers excluded).
fn trip_range(nodes: &[u32], t: usize) -> std::ops::Range<usize> {
    let mut start = 0;
    let mut trip = 0;
    for (i, &x) in nodes.iter().enumerate() {
        if x == RELOAD {
            if trip == t {
                return start..i;
            }
            trip += 1;
            start = i + 1;
        }
    }
    start..nodes.len()
}

#[cfg(test)]
mod tests {
    use super::super::{Search, SearchParams};
    use crate::routing::model::{Job, Vehicle};
    use crate::routing::route_state::{RELOAD, RouteState};
    use crate::routing::tests::grid_problem;

    #[test]
    fn swapped_trips_keep_every_job_once_and_fresh_route_states() {
        let pts: Vec<(i64, i64)> = (0..13).map(|i| ((i * 37) % 50, (i * 23) % 41)).collect();
        let jobs = (1..13).map(|j| Job::new(j, vec![1])).collect();
        let vehicle = |cap| {
            let mut v = Vehicle::new(0, vec![cap]);
            v.max_trips = 2;
            v
        };
        let p = grid_problem(&pts, jobs, vec![vehicle(4), vehicle(4), vehicle(8)], 1);
        let mut s = Search::new(&p, SearchParams::default(), 7);
        let r = RELOAD;
        s.restore(&(
            vec![vec![0, 1, 2, r, 3, 4], vec![5, 6, r, 7], vec![8, 9, 10, 11]],
            vec![],
        ));
        let trips_of = |s: &Search| -> Vec<Vec<Vec<usize>>> {
            s.routes.iter().map(RouteState::trips).collect()
        };
        let mut moved_between = false;
        let mut reordered = false;
        for _ in 0..200 {
            let before = trips_of(&s);
            s.begin();
            s.swap_trips();
            let after = trips_of(&s);
            // Every job served once, where route_of says; the trips themselves unchanged.
            let mut all: Vec<Vec<usize>> = after.iter().flatten().cloned().collect();
            let mut was: Vec<Vec<usize>> = before.iter().flatten().cloned().collect();
            all.sort();
            was.sort();
            assert_eq!(all, was);
            for (k, route) in s.routes.iter().enumerate() {
                for j in route.jobs() {
                    assert_eq!(s.route_of[j], k as u32);
                }
                let mut fresh = RouteState::new(route.vehicle);
                fresh.nodes = route.nodes.clone();
                fresh.update(&s.ctx);
                assert_eq!(
                    (route.cost, &route.trip_load),
                    (fresh.cost, &fresh.trip_load)
                );
                assert_eq!(route.feasible, fresh.feasible);
            }
            for k in 0..3 {
                let (b, a) = (&before[k], &after[k]);
                let mut sorted_b = b.clone();
                let mut sorted_a = a.clone();
                sorted_b.sort();
                sorted_a.sort();
                if sorted_a != sorted_b {
                    moved_between = true;
                } else if a != b {
                    reordered = true;
                }
            }
            // The search undoes an exchange that breaks a window: undo restores the plan exactly.
            s.undo();
            assert_eq!(trips_of(&s), before);
        }
        assert!(moved_between && reordered);
    }
}
