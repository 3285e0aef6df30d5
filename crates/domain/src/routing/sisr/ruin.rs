//! SISR's ruin: strings of consecutive stops removed from routes near a random seed stop
//! (Christiaens & Vanden Berghe 2020, section 5.2); and handing a route to another kind of vehicle.

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
