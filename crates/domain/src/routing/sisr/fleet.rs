//! Using fewer vehicles, after SISR's fleet minimisation (Christiaens & Vanden Berghe 2020,
//! section 6). With a fixed cost per vehicle, a plan with one vehicle less is usually much cheaper,
//! but the annealing alone seldom gets there: emptying a route and re-inserting its stops elsewhere
//! rarely succeeds in one iteration, and any half-way state (jobs left out) costs their penalties.
//! So the search first empties the smallest route and runs ruin-and-recreate without opening
//! vehicles, judged only by the jobs left out: fewer of them, or ones left out less often so far
//! (every job counts its absences, so the hard ones get placed first). Once every job is back, the
//! next route goes. The phase ends with the last plan that served every job it started with.

use super::{Budget, NONE, Search};

/// Routes as node lists, and the unserved jobs.
pub(super) type Snapshot = (Vec<Vec<u32>>, Vec<u32>);

impl Search<'_> {
    /// Runs the fleet phase until `share` of the budget is spent.
    pub(super) fn reduce_fleet(&mut self, budget: &Budget, share: f64, it: &mut u64) {
        let nj = self.route_of.len();
        // Jobs unserved now may stay so: the phase only asks that the served ones stay served.
        let mut counted = vec![true; nj];
        for &j in &self.unassigned {
            counted[j as usize] = false;
        }
        let mut absences = vec![0u64; nj];
        let mut complete = self.snapshot();
        if !self.empty_smallest_route() {
            return;
        }
        let cap_old = Some(2 * self.params.avg_removed as usize);
        while budget.progress(*it).is_some_and(|p| p < share) {
            *it += 1;
            let before = self.left_out(&counted, &absences);
            self.begin();
            self.ruin();
            self.no_new_routes = true;
            self.recreate(self.params.blink_rate, cap_old);
            self.no_new_routes = false;
            let after = self.left_out(&counted, &absences);
            for &j in &self.unassigned {
                if counted[j as usize] {
                    absences[j as usize] += 1;
                }
            }
            if self.touched_feasible() && (after.0 < before.0 || after.1 < before.1) {
                if after.0 == 0 {
                    complete = self.snapshot();
                    if !self.empty_smallest_route() {
                        break;
                    }
                }
            } else {
                self.undo();
            }
        }
        self.restore(&complete);
    }

    /// How many counted jobs are unserved, and their absences so far.
    fn left_out(&self, counted: &[bool], absences: &[u64]) -> (usize, u64) {
        self.unassigned
            .iter()
            .filter(|&&j| counted[j as usize])
            .fold((0, 0), |(n, w), &j| (n + 1, w + absences[j as usize]))
    }

    /// Unserves the jobs of the used route with the fewest jobs, when at least two are used and
    /// the others could still carry every served job: all their trips together, full, hold at
    /// least the demand in each dimension (a bound that needs no routing).
    fn empty_smallest_route(&mut self) -> bool {
        let used = (0..self.routes.len()).filter(|&r| self.routes[r].n_jobs > 0);
        if used.clone().count() < 2 {
            return false;
        }
        let Some(r) = used.clone().min_by_key(|&r| self.routes[r].n_jobs) else {
            return false;
        };
        let p = self.ctx.p;
        let room_left = |d: usize| -> i64 {
            used.clone()
                .filter(|&k| k != r)
                .map(|k| {
                    let v = &p.vehicles[self.routes[k].vehicle];
                    v.capacity[d].saturating_mul(i64::from(v.max_trips))
                })
                .fold(0i64, i64::saturating_add)
        };
        let dims = self.ctx.dims;
        let served = |d: usize| -> i64 {
            self.routes
                .iter()
                .flat_map(|route| route.trip_load.iter().skip(d).step_by(dims))
                .sum()
        };
        if (0..p.dimensions).any(|d| served(d) > room_left(d)) {
            return false;
        }
        self.begin();
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

    pub(super) fn snapshot(&self) -> Snapshot {
        (
            self.routes.iter().map(|r| r.nodes.clone()).collect(),
            self.unassigned.clone(),
        )
    }

    /// Makes `s` the current solution.
    pub(super) fn restore(&mut self, s: &Snapshot) {
        for (r, nodes) in s.0.iter().enumerate() {
            self.routes[r].nodes.clone_from(nodes);
            self.routes[r].update(&self.ctx);
            self.sync_empty(r);
            for j in self.routes[r].jobs() {
                self.route_of[j] = r as u32;
            }
        }
        self.unassigned.clone_from(&s.1);
        for &j in &self.unassigned {
            self.route_of[j as usize] = NONE;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Budget, Search, SearchParams};
    use crate::routing::model::{Job, Problem, Vehicle};
    use crate::routing::tests::grid_problem;

    fn vans(n: usize, cap: i64) -> Problem {
        let pts: Vec<(i64, i64)> = (0..9).map(|i| ((i * 37) % 50, (i * 23) % 41)).collect();
        let jobs = (1..9).map(|j| Job::new(j, vec![1])).collect();
        let mut v = Vehicle::new(0, vec![cap]);
        v.fixed_cost = 1_000;
        grid_problem(&pts, jobs, vec![v; n], 1)
    }

    #[test]
    fn a_van_that_cannot_be_spared_ends_the_phase_and_frees_its_share() {
        // Eight cartons, vans of five: both vans are needed, whatever the routes.
        let p = vans(2, 5);
        let budget = Budget {
            time_limit: None,
            max_iterations: Some(10_000),
            clock: &|| 0.0,
        };
        let mut s = Search::new(&p, SearchParams::default(), 3);
        let chain = s.start(&budget);
        assert_eq!(s.routes.iter().filter(|r| r.n_jobs > 0).count(), 2);
        assert_eq!(chain.it, 0);
        assert_eq!(chain.fleet_share, 0.0);
    }

    #[test]
    fn a_route_is_emptied_only_when_the_other_vans_could_carry_its_load() {
        for (cap, spared) in [(10, true), (5, false)] {
            let p = vans(2, cap);
            let mut s = Search::new(&p, SearchParams::default(), 3);
            s.restore(&(vec![vec![0, 1, 2], vec![3, 4, 5, 6, 7]], vec![]));
            assert_eq!(s.empty_smallest_route(), spared, "vans of {cap}");
            assert_eq!(
                s.unassigned.len(),
                if spared { 3 } else { 0 },
                "vans of {cap}"
            );
        }
    }
}
