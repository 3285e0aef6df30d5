//! One search on several threads: each thread runs its own annealing chain with its own randomness
//! and, after every epoch of iterations, all chains continue from the cheapest current plan among
//! them (ties go to the lower thread). Independent chains would only give the best of a few draws;
//! with the exchange, every chain works on the most promising trajectory.
//! Epochs are counted in iterations, so the result is still fixed by the seed and an iteration
//! budget (which each chain then spends in full).

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use super::fleet::Snapshot;
use super::{Budget, Found, Search, SearchParams};
use crate::routing::Problem;

/// Iterations between exchanges: a few tens of milliseconds, long enough that waiting for the
/// slowest chain costs little and that the chains move apart between exchanges.
const EPOCH: u64 = 1_000;

/// Runs the search on `threads` chains and returns the best solution any of them found.
pub(crate) fn search(
    problem: &Problem,
    params: &SearchParams,
    seed: u64,
    threads: usize,
    budget: &Budget,
) -> Found {
    if threads <= 1 {
        return Search::new(problem, params.clone(), seed).run(budget);
    }
    let exchange = Exchange::new(threads);
    let found: Vec<Found> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|k| {
                let exchange = &exchange;
                let params = params.clone();
                scope.spawn(move || {
                    let _leaving = Leaving(exchange);
                    let mut search = Search::new(problem, params, chain_seed(seed, k));
                    let mut chain = search.start(budget);
                    let mut spent = false;
                    loop {
                        let (stop, plan) = exchange.meet(k, chain.cur, search.snapshot(), spent);
                        if stop {
                            break;
                        }
                        if let Some(plan) = plan {
                            search.adopt(&plan, &mut chain);
                        }
                        spent = !search.anneal(budget, &mut chain, EPOCH);
                    }
                    search.finish(chain)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    let iterations = found.iter().map(|f| f.iterations).sum();
    let mut best = found
        .into_iter()
        .min_by_key(|f| f.cost)
        .expect("at least two chains");
    best.iterations = iterations;
    best
}

/// Chain 0 uses the caller's seed, so one thread searches exactly as the single-chain search.
fn chain_seed(seed: u64, k: usize) -> u64 {
    seed.wrapping_add((k as u64).wrapping_mul(0xD1B5_4A32_D192_ED03))
}

/// Where the chains meet between epochs.
struct Exchange {
    threads: usize,
    round: Mutex<Round>,
    turn: Condvar,
}

#[derive(Default)]
struct Round {
    /// Each chain's current cost and plan, posted this round.
    posts: Vec<(i64, Snapshot)>,
    arrived: usize,
    /// Chains that ended without a stop decision (a panic): the others stop rather than wait.
    gone: usize,
    spent: bool,
    /// The decision of the last completed round, kept until the next one completes, so that a
    /// slow reader still finds it after a fast chain has posted again.
    generation: u64,
    stop: bool,
    winner: usize,
    winner_plan: Snapshot,
}

impl Exchange {
    fn new(threads: usize) -> Self {
        Exchange {
            threads,
            round: Mutex::new(Round {
                posts: vec![Default::default(); threads],
                ..Round::default()
            }),
            turn: Condvar::new(),
        }
    }

    /// Posts chain `k`'s current plan and waits for the others. Returns whether to stop (some
    /// chain has spent the budget, or is gone) and, unless chain `k` posted it, the cheapest plan.
    fn meet(&self, k: usize, cost: i64, plan: Snapshot, spent: bool) -> (bool, Option<Snapshot>) {
        let mut r = self.lock();
        r.posts[k] = (cost, plan);
        r.arrived += 1;
        r.spent |= spent;
        let generation = r.generation;
        if r.arrived + r.gone == self.threads {
            self.decide(&mut r);
        } else {
            while r.generation == generation {
                r = self.turn.wait(r).unwrap_or_else(PoisonError::into_inner);
            }
        }
        let plan = (!r.stop && r.winner != k).then(|| r.winner_plan.clone());
        (r.stop, plan)
    }

    /// Completes a round: picks the cheapest plan and wakes every waiting chain.
    fn decide(&self, r: &mut Round) {
        let winner = (0..self.threads)
            .min_by_key(|&i| (r.posts[i].0, i))
            .unwrap_or(0);
        r.winner_plan = std::mem::take(&mut r.posts[winner].1);
        r.winner = winner;
        r.stop = r.spent || r.gone > 0;
        r.arrived = 0;
        r.generation += 1;
        self.turn.notify_all();
    }

    fn lock(&self) -> MutexGuard<'_, Round> {
        // Nothing is left half-written under the lock, so a poisoned one is still consistent.
        self.round.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Tells the exchange when a chain's thread unwinds, so that no other chain waits for it.
struct Leaving<'e>(&'e Exchange);

impl Drop for Leaving<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut r = self.0.lock();
            r.gone += 1;
            if r.arrived > 0 && r.arrived + r.gone == self.0.threads {
                self.0.decide(&mut r);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(tag: u32) -> Snapshot {
        (vec![vec![tag]], Vec::new())
    }

    #[test]
    fn every_chain_gets_the_cheapest_plan_but_its_own() {
        let ex = Exchange::new(3);
        let answers: Vec<(bool, Option<Snapshot>)> = std::thread::scope(|s| {
            let hs: Vec<_> = [(0, 50), (1, 20), (2, 20)]
                .map(|(k, cost)| {
                    let ex = &ex;
                    s.spawn(move || ex.meet(k, cost, plan(k as u32), false))
                })
                .into_iter()
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).collect()
        });
        // Chains 1 and 2 tie; the lower one wins.
        assert_eq!(answers[0], (false, Some(plan(1))));
        assert_eq!(answers[1], (false, None));
        assert_eq!(answers[2], (false, Some(plan(1))));
    }

    #[test]
    fn a_spent_budget_stops_every_chain() {
        let ex = Exchange::new(2);
        let answers: Vec<(bool, Option<Snapshot>)> = std::thread::scope(|s| {
            let a = s.spawn(|| ex.meet(0, 10, plan(0), true));
            let b = s.spawn(|| ex.meet(1, 5, plan(1), false));
            vec![a.join().unwrap(), b.join().unwrap()]
        });
        assert_eq!(answers, vec![(true, None), (true, None)]);
    }

    #[test]
    fn a_chain_that_panics_does_not_leave_the_others_waiting() {
        let ex = Exchange::new(2);
        std::thread::scope(|s| {
            let waiting = s.spawn(|| ex.meet(0, 10, plan(0), false));
            let failing = s.spawn(|| {
                let _leaving = Leaving(&ex);
                // Give the other chain time to reach the exchange first.
                std::thread::sleep(std::time::Duration::from_millis(50));
                panic!("a bug in one chain");
            });
            assert!(failing.join().is_err());
            assert_eq!(waiting.join().unwrap(), (true, None));
        });
    }
}
