//! The database handle: pools, migrations and the transaction policy.
//! SQLite allows one writer at a time, so writes go to one dedicated writer thread
//! that owns the only write connection and commits whatever is queued as one group
//! (each write in its own savepoint, so one refused write never undoes another);
//! answers are sent only after the commit (see `lane`). A pool of readers serves reads
//! beside it (WAL). PostgreSQL writes ledger commands through lanes too, one per site
//! hash, and everything else through a pool; row locks order concurrent writers.

use crate::catalogue::IdCache;
use crate::checkpoint;
use crate::connection::{Backend, ConnectError, DbConnection, Manager, Target, redact};
use crate::error::StoreError;
use crate::health::Health;
use crate::lane::{self, LaneConnection};
use crate::migrations;
use diesel::Connection;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub type Pool = r2d2::Pool<Manager>;

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub readers: u32,
    /// Pooled writers on PostgreSQL (SQLite always has one).
    pub pg_writers: u32,
    /// Group-committing writer threads for ledger commands on PostgreSQL.
    pub pg_lanes: u32,
    /// Longest wait for a pooled connection before the request is answered 503.
    pub checkout_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            readers: 8,
            // Writes on PostgreSQL wait on round trips more than on CPU.
            pg_writers: 16,
            // Each lane is one PostgreSQL backend committing groups. Where the database
            // shares the service's cores, fewer lanes mean bigger groups and less CPU per
            // write (measured on 2 cores: 2 lanes beat 1 and 4); more lanes pay when
            // the database is a network hop away and lanes mostly wait.
            pg_lanes: 2,
            // A checkout that waits longer is answered 503: the pool is the bound on
            // concurrent database work, and a request queued behind it for seconds is
            // worse than one told to come back.
            checkout_timeout: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("migrating {url}: {source}")]
    Migrate {
        url: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("building the connection pool: {0}")]
    Pool(#[from] r2d2::Error),
}

#[derive(Clone)]
enum Writer {
    /// SQLite: the queue of the writer thread.
    Queue(std::sync::mpsc::Sender<lane::Message>),
    /// PostgreSQL: a pool of writer connections, and lanes of group-committing writer
    /// threads for ledger commands. A command goes to the lane of the site whose
    /// balances it locks, so lanes rarely wait on each other's row locks.
    Pool {
        pool: Pool,
        lanes: Vec<std::sync::mpsc::Sender<lane::Message>>,
    },
}

#[derive(Clone)]
pub struct Db {
    backend: Backend,
    writer: Writer,
    reader: Pool,
    ids: Arc<IdCache>,
    health: Arc<Health>,
    target: Target,
    /// The lane threads, joined by `close`.
    lane_threads: Arc<Mutex<Vec<std::thread::JoinHandle<()>>>>,
}

/// How long a request waits for a pooled connection while the database is known to be
/// unreachable.
const OUTAGE_CHECKOUT_TIMEOUT: Duration = Duration::from_millis(500);

/// How many times a pooled transaction that lost a concurrency race is run again.
const MAX_ATTEMPTS: u32 = 8;

impl Db {
    /// Connects once (so the real cause of a failure reaches the user), applies pending
    /// migrations and builds the pools.
    pub fn open(url: &str, opts: &DbOptions) -> Result<Db, OpenError> {
        let target = Target::parse(url)?;
        let mut first = target.connect()?;
        migrations::run_pending(&mut first).map_err(|source| OpenError::Migrate {
            url: redact(url),
            source,
        })?;
        let backend = target.backend();
        let ids = Arc::new(IdCache::default());
        let health = Arc::new(Health::default());
        let build = |size: u32| {
            r2d2::Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                // Free while no connection has been seen dead (see `Manager`).
                .test_on_check_out(true)
                .connection_timeout(opts.checkout_timeout)
                .build(Manager {
                    target: target.clone(),
                    health: Arc::clone(&health),
                })
        };
        let spawn_failed = |e: std::io::Error| OpenError::Migrate {
            url: redact(url),
            source: Box::new(e),
        };
        let mut threads = Vec::new();
        let writer = match backend {
            Backend::Sqlite => {
                use diesel::connection::SimpleConnection;
                first
                    .batch_execute("PRAGMA wal_autocheckpoint = 0")
                    .map_err(ConnectError::Pragma)?;
                let checkpointer = checkpoint::spawn(&target).map_err(spawn_failed)?;
                let conn =
                    LaneConnection::new("sqlite-writer".into(), first, None, Arc::clone(&health));
                let (tx, thread) =
                    lane::spawn(conn, &ids, Some(checkpointer)).map_err(spawn_failed)?;
                threads.push(thread);
                Writer::Queue(tx)
            }
            Backend::Postgres => {
                drop(first);
                let mut lanes = Vec::new();
                for i in 0..opts.pg_lanes.max(1) {
                    let conn = LaneConnection::new(
                        format!("pg-writer-{i}"),
                        target.connect()?,
                        Some(target.clone()),
                        Arc::clone(&health),
                    );
                    let (tx, thread) = lane::spawn(conn, &ids, None).map_err(spawn_failed)?;
                    threads.push(thread);
                    lanes.push(tx);
                }
                Writer::Pool {
                    pool: build(opts.pg_writers.max(1))?,
                    lanes,
                }
            }
        };
        let reader = build(opts.readers.max(1))?;
        Ok(Db {
            backend,
            writer,
            reader,
            ids,
            health,
            target,
            lane_threads: Arc::new(Mutex::new(threads)),
        })
    }

    /// The reader pool's connections now.
    pub fn reader_pool(&self) -> crate::stats::PoolUse {
        let st = self.reader.state();
        crate::stats::PoolUse {
            open: st.connections,
            idle: st.idle_connections,
            max: self.reader.max_size(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The site and item id cache the ledger writes resolve names with.
    pub fn ids(&self) -> Arc<IdCache> {
        Arc::clone(&self.ids)
    }

    /// Where the database is (for work that needs its own connection).
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// Whether writes can be made now: every writer holds a live connection.
    pub fn writable(&self) -> bool {
        self.health.writable()
    }

    /// Runs `f` in one transaction (SQLite: one savepoint of a group commit), again
    /// from the start when it lost a race to a concurrent writer (PostgreSQL). All or
    /// nothing: an error rolls back `f`'s writes. Blocks until committed.
    pub fn write<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        match &self.writer {
            Writer::Queue(q) => {
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                lane::enqueue(q, &self.ids, &[], None, f, move |r| {
                    let _ = tx.send(r);
                })?;
                rx.recv()
                    .map_err(|_| StoreError::Unavailable("the writer stopped".into()))?
            }
            Writer::Pool { pool, .. } => {
                let result = self.write_pooled(pool, f);
                if result.is_err() {
                    self.ids.clear();
                }
                result
            }
        }
    }

    /// Queues `f` on a group-committing writer and returns a future of its committed
    /// result, so an async caller needs no blocking thread. `sites` names the sites
    /// whose stock `f` may lock (the first picks the lane: one site's writes never run
    /// concurrently in one process); across processes a group holds its sites' locks.
    /// `stock` names the (site, item) pairs of a ledger command that touches the
    /// database only through the ledger's stock reads and writes; a group of such
    /// commands shares its statements (see `batch`).
    pub fn write_queued<T, F>(
        &self,
        sites: &[&str],
        stock: Option<Vec<(String, String)>>,
        f: F,
    ) -> futures_channel::oneshot::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let first = sites.first().copied().unwrap_or_default();
        let q = match &self.writer {
            Writer::Queue(q) => q,
            Writer::Pool { lanes, .. } => &lanes[lane::lane_of(first, lanes.len())],
        };
        let (tx, rx) = futures_channel::oneshot::channel();
        if let Err(e) = lane::enqueue(q, &self.ids, sites, stock, f, move |r| {
            let _ = tx.send(r);
        }) {
            // The sender is dropped with the job: the caller sees the writer stopped.
            log::error!("{e}");
        }
        rx
    }

    fn write_pooled<T>(
        &self,
        pool: &Pool,
        mut f: impl FnMut(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.checkout(pool)?;
        let mut attempt = 1;
        loop {
            match conn.transaction(|c| f(c)) {
                Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                    log::debug!("transaction retried after: {e}");
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(u64::from(attempt) * 2));
                }
                Err(e) => {
                    conn.note_error(&e, &self.health);
                    return Err(e);
                }
                ok => return ok,
            }
        }
    }

    /// A pooled connection. While a writer has found the database gone, waiting the
    /// full pool timeout for a connection that cannot be made would only hold the
    /// request: the answer is "unavailable" after a short try.
    fn checkout(&self, pool: &Pool) -> Result<r2d2::PooledConnection<Manager>, StoreError> {
        let conn = if self.health.reachable() {
            pool.get()
        } else {
            pool.get_timeout(OUTAGE_CHECKOUT_TIMEOUT)
        };
        Ok(conn?)
    }

    /// Runs `f` on a reader connection.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.checkout(&self.reader)?;
        let result = f(&mut conn);
        if let Err(e) = &result {
            conn.note_error(e, &self.health);
        }
        result
    }

    /// Cheap round trip for readiness checks.
    pub fn ping(&self) -> Result<(), StoreError> {
        use diesel::connection::SimpleConnection;
        self.read(|c| c.batch_execute("SELECT 1").map_err(StoreError::from))
    }

    /// Stops the writers once they have committed and answered everything queued
    /// (SQLite: and copied its log into the database file), waiting at most `deadline`.
    /// Writes queued after this are answered "unavailable".
    pub fn close(&self, deadline: Duration) {
        let senders: Vec<_> = match &self.writer {
            Writer::Queue(q) => vec![q.clone()],
            Writer::Pool { lanes, .. } => lanes.clone(),
        };
        for q in senders {
            let _ = q.send(lane::Message::Stop);
        }
        let threads =
            std::mem::take(&mut *self.lane_threads.lock().unwrap_or_else(|e| e.into_inner()));
        let until = std::time::Instant::now() + deadline;
        for t in threads {
            while !t.is_finished() && std::time::Instant::now() < until {
                std::thread::sleep(Duration::from_millis(10));
            }
            if t.is_finished() {
                let _ = t.join();
            } else {
                log::warn!("a writer did not stop within {deadline:?}");
            }
        }
    }
}
