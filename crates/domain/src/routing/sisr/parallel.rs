//! One search on several threads: each thread runs its own annealing chain with its own randomness
//! and, after every epoch of iterations, all chains continue from the cheapest current plan among
//! them (ties go to the lower thread). Independent chains would only give the best of a few draws;
//! the exchange lets the chains share one trajectory and search it several times as fast.
//! Epochs are counted in iterations, so the result is still fixed by the seed and an iteration
//! budget (which each chain then spends in full).

use std::sync::{Barrier, Mutex, PoisonError};

use super::fleet::Snapshot;
use super::{Budget, Chain, Found, Search, SearchParams};
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
                    let mut search = Search::new(problem, params, chain_seed(seed, k));
                    let mut chain = search.start(budget);
                    let mut spent = false;
                    while !exchange.meet(k, &mut search, &mut chain, spent) {
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

/// Where the chains post their current plans between epochs.
struct Exchange {
    barrier: Barrier,
    posts: Mutex<Vec<Post>>,
}

#[derive(Default)]
struct Post {
    cost: i64,
    plan: Snapshot,
    spent: bool,
}

impl Exchange {
    fn new(threads: usize) -> Self {
        Exchange {
            barrier: Barrier::new(threads),
            posts: Mutex::new((0..threads).map(|_| Post::default()).collect()),
        }
    }

    /// Posts chain `k`'s plan, waits for every chain, and moves chain `k` to the cheapest plan
    /// posted. Returns true when some chain has spent the budget: then all stop together.
    fn meet(&self, k: usize, search: &mut Search, chain: &mut Chain, spent: bool) -> bool {
        self.lock()[k] = Post {
            cost: chain.cur,
            plan: search.snapshot(),
            spent,
        };
        self.barrier.wait();
        let (stop, winner) = {
            let posts = self.lock();
            let stop = posts.iter().any(|p| p.spent);
            let w = (0..posts.len())
                .min_by_key(|&i| (posts[i].cost, i))
                .unwrap_or(k);
            (stop, (w != k).then(|| posts[w].plan.clone()))
        };
        // Nobody posts again before everyone has read.
        self.barrier.wait();
        if let Some(plan) = winner.filter(|_| !stop) {
            search.adopt(&plan, chain);
        }
        stop
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Post>> {
        // A chain that panicked has not left the posts half-written: each is replaced whole.
        self.posts.lock().unwrap_or_else(PoisonError::into_inner)
    }
}
