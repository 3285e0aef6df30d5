//! What the write path and the pools are doing, for the service's metrics. Counters
//! are process-wide (one process serves one database); a commit observer, set once by
//! the service, sees every group commit's size and duration.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// Writes handed to a lane and not yet answered.
static QUEUED: AtomicI64 = AtomicI64::new(0);

type Observer = Box<dyn Fn(GroupCommit) + Send + Sync>;
static OBSERVER: OnceLock<Observer> = OnceLock::new();

/// One group commit as a lane saw it.
#[derive(Debug, Clone, Copy)]
pub struct GroupCommit {
    /// Writes in the group.
    pub writes: usize,
    /// From the group's first statement to its commit (or failure).
    pub duration: Duration,
    pub failed: bool,
}

/// Calls `f` after every group commit of every lane. Only the first call takes effect.
pub fn observe_commits(f: impl Fn(GroupCommit) + Send + Sync + 'static) {
    let _ = OBSERVER.set(Box::new(f));
}

/// Writes queued or running now.
pub fn queued_writes() -> i64 {
    QUEUED.load(Ordering::Relaxed)
}

/// One write counted in [`queued_writes`] from its creation to its drop.
pub(crate) struct Queued(());

impl Queued {
    pub(crate) fn new() -> Queued {
        QUEUED.fetch_add(1, Ordering::Relaxed);
        Queued(())
    }
}

impl Drop for Queued {
    fn drop(&mut self) {
        QUEUED.fetch_sub(1, Ordering::Relaxed);
    }
}

pub(crate) fn committed(c: GroupCommit) {
    if let Some(f) = OBSERVER.get() {
        f(c);
    }
}

/// Connections of a pool: open in all, and idle among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolUse {
    pub open: u32,
    pub idle: u32,
    pub max: u32,
}
