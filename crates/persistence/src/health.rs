//! What the service knows about its database connections: whether every writer has a
//! live connection (readiness, fail-fast answers) and a generation that moves on each
//! time a connection is found dead, so that pooled connections opened before an outage
//! are probed before their next use instead of failing a request each.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// How long a client should wait before retrying while the database is unreachable:
/// writers try to reconnect at least this often.
pub const RETRY_AFTER: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
pub struct Health {
    /// Writer lanes without a live connection.
    lanes_down: AtomicUsize,
    generation: AtomicU64,
    /// The last attempt to open a pooled connection failed.
    connect_failing: AtomicBool,
}

impl Health {
    /// True when every writer holds a live connection.
    pub fn writable(&self) -> bool {
        self.lanes_down.load(Ordering::Acquire) == 0
    }

    /// False while the database is known to be unreachable (a writer lost it, or new
    /// connections cannot be opened).
    pub fn reachable(&self) -> bool {
        self.writable() && !self.connect_failing.load(Ordering::Acquire)
    }

    pub(crate) fn connect_result(&self, ok: bool) {
        let was_failing = self.connect_failing.swap(!ok, Ordering::AcqRel);
        if !ok && !was_failing {
            self.saw_dead_connection();
        }
    }

    pub(crate) fn lane_down(&self) {
        self.lanes_down.fetch_add(1, Ordering::AcqRel);
        self.saw_dead_connection();
    }

    pub(crate) fn lane_up(&self) {
        self.lanes_down.fetch_sub(1, Ordering::AcqRel);
    }

    /// A connection was found dead: every connection of an earlier generation is
    /// suspect.
    pub(crate) fn saw_dead_connection(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }
}
