//! SISR's recreate: greedy insertion with blinks, in one of four job orders
//! (Christiaens & Vanden Berghe 2020, section 5.3).

use super::{NONE, Search};
use crate::routing::route_state::Insertion;

impl Search<'_> {
    /// Re-inserts every unserved job (greedy with blinks), in one of SISR's orders.
    ///
    /// With `cap_old`, at most that many of the jobs that were already unserved before this
    /// iteration are retried (a random choice): on an over-full day hundreds of jobs stay unserved,
    /// and retrying all of them every iteration would swamp the search.
    pub(super) fn recreate(&mut self, blink: f64, cap_old: Option<usize>) {
        let mut jobs = std::mem::take(&mut self.unassigned);
        let old = self.saved_unassigned.len().min(jobs.len());
        if let Some(cap) = cap_old.filter(|&c| old > c) {
            // The old ones come first (ruin appends); keep a random `cap` of them in play.
            self.rng.shuffle(&mut jobs[..old]);
            self.unassigned.extend_from_slice(&jobs[cap..old]);
            jobs.drain(cap..old);
        }
        self.rng.shuffle(&mut jobs);
        let pick = self.rng.below(11);
        if pick < 4 {
            // random
        } else if pick < 8 {
            jobs.sort_by(|&a, &b| self.size_key[b as usize].total_cmp(&self.size_key[a as usize]));
        } else if pick < 10 {
            jobs.sort_by_key(|&a| std::cmp::Reverse(self.depot_dist[a as usize]));
        } else {
            jobs.sort_by_key(|&a| self.depot_dist[a as usize]);
        }
        // Judging each optional job alone against its penalty never opens a trip that only pays
        // for several jobs together; so sometimes insert whatever fits and let the annealing judge.
        let force = self.rng.unit() < self.params.force_insert_rate;
        for u in jobs {
            let u = u as usize;
            let best = self.best_insertion(u, blink, force);
            if best.route != NONE as usize {
                self.touch(best.route);
                self.routes[best.route].apply(&best, u, &self.ctx);
                self.route_of[u] = best.route as u32;
                self.sync_empty(best.route);
            } else {
                self.unassigned.push(u as u32);
            }
        }
    }

    fn best_insertion(&mut self, u: usize, blink: f64, force: bool) -> Insertion {
        let mut best = Insertion {
            delta: if force { i64::MAX } else { self.penalty[u] },
            route: NONE as usize,
            gap: 0,
            new_trip: false,
        };
        self.stamp_candidates();
        // Routes holding one of u's nearest jobs, nearest first (so the bound tightens early).
        let g = self
            .params
            .insertion_neighbours
            .min(self.ctx.neighbours[u].len());
        let mut cands = std::mem::take(&mut self.cand_buf);
        cands.resize(g + 1, 0);
        let mut len = 0;
        // Branch-free de-duplication: unserved neighbours map to the sentinel slot `nr`.
        let nr = self.routes.len();
        let (route_of, stamp, sc) = (&self.route_of, &mut self.cand_stamp, self.stamp_c);
        for &nb in &self.ctx.neighbours[u][..g] {
            let r = (route_of[nb as usize] as usize).min(nr);
            let fresh = usize::from(stamp[r] != sc);
            stamp[r] = sc;
            cands[len] = r as u32;
            len += fresh;
        }
        for &r in &cands[..len] {
            let r = r as usize;
            if r < nr {
                self.routes[r].best_insertion(&self.ctx, r, u, &mut best, &mut self.rng, blink);
            }
        }
        self.cand_buf = cands;
        for c in 0..if self.no_new_routes {
            0
        } else {
            self.empty.len()
        } {
            if let Some(&r) = self.empty[c].first() {
                self.cand_stamp[r] = self.stamp_c;
                self.routes[r].best_insertion(&self.ctx, r, u, &mut best, &mut self.rng, blink);
            }
        }
        if best.route == NONE as usize {
            // Nothing near fits: look everywhere.
            for r in 0..self.routes.len() {
                if self.cand_stamp[r] != self.stamp_c && self.routes[r].n_jobs > 0 {
                    self.routes[r].best_insertion(&self.ctx, r, u, &mut best, &mut self.rng, blink);
                }
            }
        }
        best
    }
}
