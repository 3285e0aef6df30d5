//! Heavy work — route solves, delivery-plan building, scenario simulations — runs on
//! blocking threads, never on an async worker, and at most one job per core at a time:
//! more would only share the cores and make every job late. A request that finds every
//! slot taken waits a little for one, then is answered 503 with `Retry-After` instead
//! of queueing without end.

use crate::problem::Problem;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a request waits for a free slot.
const WAIT: Duration = Duration::from_secs(5);
/// How often a waiting request looks again.
const POLL: Duration = Duration::from_millis(20);

pub struct HeavyWork {
    running: AtomicUsize,
    limit: usize,
}

/// A slot; freed when dropped.
struct Slot(Arc<HeavyWork>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.running.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HeavyWork {
    /// One slot per core.
    pub fn per_core() -> Arc<HeavyWork> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Arc::new(HeavyWork {
            running: AtomicUsize::new(0),
            limit: cores,
        })
    }

    fn try_take(self: &Arc<Self>) -> Option<Slot> {
        self.running
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .ok()
            .map(|_| Slot(Arc::clone(self)))
    }

    /// Runs `f` on a blocking thread once a slot is free.
    pub async fn run<T: Send + 'static>(
        self: &Arc<Self>,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Problem> {
        let deadline = Instant::now() + WAIT;
        let slot = loop {
            if let Some(slot) = self.try_take() {
                break slot;
            }
            if Instant::now() >= deadline {
                return Err(Problem::busy(
                    "every solver is busy with other plans, routes or scenarios; retry shortly",
                ));
            }
            actix_web::rt::time::sleep(POLL).await;
        };
        Ok(actix_web::web::block(move || {
            let _slot = slot;
            f()
        })
        .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_bounded_and_come_back() {
        let work = Arc::new(HeavyWork {
            running: AtomicUsize::new(0),
            limit: 2,
        });
        let a = work.try_take().expect("first");
        let _b = work.try_take().expect("second");
        assert!(work.try_take().is_none(), "a third slot");
        drop(a);
        assert!(work.try_take().is_some(), "a freed slot");
    }
}
