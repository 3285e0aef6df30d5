//! The database handle: pools, migrations and the transaction policy.
//! SQLite allows one writer at a time, so writes go to one dedicated writer thread
//! that owns the only write connection and commits whatever is queued as one group
//! (each write in its own savepoint, so one refused write never undoes another);
//! answers are sent only after the commit. A pool of readers serves reads beside it
//! (WAL). PostgreSQL writes through a pool, and row locks order concurrent writers.

use crate::catalogue::IdCache;
use crate::checkpoint::{self, Checkpointer};
use crate::connection::{Backend, ConnectError, DbConnection, Manager, Target, redact};
use crate::error::StoreError;
use crate::idempotency;
use crate::migrations;
use crate::savepoint::Savepoints;
use diesel::Connection;
use std::sync::Arc;
use std::time::Duration;

pub type Pool = r2d2::Pool<Manager>;

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub readers: u32,
    /// Pooled writers on PostgreSQL (SQLite always has one).
    pub pg_writers: u32,
    /// Group-committing writer threads for ledger commands on PostgreSQL.
    pub pg_lanes: u32,
    pub connect_timeout: Duration,
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
            connect_timeout: Duration::from_secs(5),
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

/// A write queued for a group commit. It may run more than once: a group whose fast
/// pass fails runs again write by write.
trait QueuedWrite: Send {
    /// Runs the write; false when it failed. With `savepoints`, the write runs in its
    /// own savepoint and is retried when it lost a race.
    fn run(&mut self, conn: &mut DbConnection, savepoints: Option<&mut Savepoints>) -> bool;
    /// Answers the caller once the group committed (or failed to).
    fn finish(self: Box<Self>, commit_failure: Option<&str>);
}

type Job = Box<dyn QueuedWrite>;

struct Queued<T, F, R> {
    f: F,
    reply: R,
    ids: Arc<IdCache>,
    result: Option<Result<T, StoreError>>,
}

impl<T, F, R> QueuedWrite for Queued<T, F, R>
where
    T: Send,
    F: FnMut(&mut DbConnection) -> Result<T, StoreError> + Send,
    R: FnOnce(Result<T, StoreError>) + Send,
{
    fn run(&mut self, c: &mut DbConnection, savepoints: Option<&mut Savepoints>) -> bool {
        let result = match savepoints {
            None => (self.f)(c),
            Some(savepoints) => {
                savepoints.begin(c);
                // One writer per lane: only an idempotency key's own collision asks for
                // another run.
                let mut attempt = 1;
                loop {
                    let result = (self.f)(c);
                    if result.is_err() {
                        savepoints.rollback(c);
                    }
                    match result {
                        Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => attempt += 1,
                        other => break other,
                    }
                }
            }
        };
        if result.is_err() {
            self.ids.clear();
        }
        let ok = result.is_ok();
        self.result = Some(result);
        ok
    }

    fn finish(self: Box<Self>, commit_failure: Option<&str>) {
        let result = self
            .result
            .unwrap_or_else(|| Err(StoreError::Unavailable("the write did not run".into())));
        (self.reply)(match commit_failure {
            None => result,
            Some(e) => Err(StoreError::Unavailable(format!("commit failed: {e}"))),
        })
    }
}

/// Most writes one group commit holds; bounds the latency a write can add to others.
const MAX_GROUP: usize = 128;

#[derive(Clone)]
enum Writer {
    /// SQLite: the queue of the writer thread.
    Queue(std::sync::mpsc::Sender<Job>),
    /// PostgreSQL: a pool of writer connections, and lanes of group-committing writer
    /// threads for ledger commands. A command goes to the lane of the site whose
    /// balances it locks, so lanes rarely wait on each other's row locks.
    Pool {
        pool: Pool,
        lanes: Vec<std::sync::mpsc::Sender<Job>>,
    },
}

fn spawn_writer(
    name: String,
    conn: DbConnection,
    ids: &Arc<IdCache>,
    checkpointer: Option<Checkpointer>,
) -> Result<std::sync::mpsc::Sender<Job>, std::io::Error> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    let ids = Arc::clone(ids);
    std::thread::Builder::new()
        .name(name)
        .spawn(move || writer_loop(conn, rx, ids, checkpointer))?;
    Ok(tx)
}

#[derive(Clone)]
pub struct Db {
    backend: Backend,
    writer: Writer,
    reader: Pool,
    ids: Arc<IdCache>,
}

/// The writer thread: take everything queued, run it in one transaction, commit, answer.
///
/// A group first runs in a fast pass without savepoints; on PostgreSQL the idempotency
/// keys of all its writes are also stored by one statement at the end, which halves
/// the round trips of a write. Any failure in that pass (a refusal, a repeated key, a
/// lost race) rolls the whole group back, and it runs again write by write, each in
/// its savepoint, so one refused write never undoes another.
fn writer_loop(
    mut conn: DbConnection,
    jobs: std::sync::mpsc::Receiver<Job>,
    ids: Arc<IdCache>,
    checkpointer: Option<Checkpointer>,
) {
    while let Ok(first) = jobs.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match jobs.try_recv() {
                Ok(j) => group.push(j),
                Err(_) => break,
            }
        }
        let fast_done =
            matches!(conn, DbConnection::Postgresql(_)) && fast_pass(&mut conn, &mut group);
        let committed = if fast_done {
            Ok(())
        } else {
            conn.transaction(|c| {
                let mut savepoints = Savepoints::default();
                for job in &mut group {
                    job.run(c, Some(&mut savepoints));
                }
                if savepoints.broken() {
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                Ok(())
            })
        };
        let failure = committed.err().map(|e| e.to_string());
        if let Some(e) = &failure {
            log::error!("group commit failed: {e}");
            ids.clear();
        }
        for job in group {
            job.finish(failure.as_deref());
        }
        if let Some(c) = &checkpointer {
            c.after_commit(&mut conn);
        }
    }
}

/// Runs and commits `group` without savepoints (on PostgreSQL with its keys stored
/// together); false, and nothing written, when any write failed.
fn fast_pass(conn: &mut DbConnection, group: &mut [Job]) -> bool {
    let pg = matches!(conn, DbConnection::Postgresql(_));
    let committed = conn.transaction(|c| {
        if pg {
            idempotency::collect_keys();
        }
        let all_ran = group.iter_mut().all(|job| job.run(c, None));
        let keys = idempotency::take_deferred();
        if !all_ran {
            return Err(diesel::result::Error::RollbackTransaction);
        }
        match c {
            DbConnection::Postgresql(pg) => idempotency::insert_all(pg, &keys),
            DbConnection::Sqlite(_) => Ok(()),
        }
    });
    if let Err(e) = &committed {
        log::debug!("group runs again write by write after: {e}");
    }
    committed.is_ok()
}

/// How many times a transaction that lost a concurrency race is run again.
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
        let build = |size: u32| {
            r2d2::Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                // A validity probe on every checkout costs a round trip per request; a
                // dead connection fails its query instead, and lifetimes recycle them.
                .test_on_check_out(false)
                .connection_timeout(opts.connect_timeout)
                .build(Manager(target.clone()))
        };
        let spawn_failed = |e: std::io::Error| OpenError::Migrate {
            url: redact(url),
            source: Box::new(e),
        };
        let writer = match backend {
            Backend::Sqlite => {
                use diesel::connection::SimpleConnection;
                first
                    .batch_execute("PRAGMA wal_autocheckpoint = 0")
                    .map_err(ConnectError::Pragma)?;
                let checkpointer = checkpoint::spawn(&target).map_err(spawn_failed)?;
                Writer::Queue(
                    spawn_writer("sqlite-writer".into(), first, &ids, Some(checkpointer))
                        .map_err(spawn_failed)?,
                )
            }
            Backend::Postgres => {
                drop(first);
                let mut lanes = Vec::new();
                for i in 0..opts.pg_lanes.max(1) {
                    lanes.push(
                        spawn_writer(format!("pg-writer-{i}"), target.connect()?, &ids, None)
                            .map_err(spawn_failed)?,
                    );
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
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The site and item id cache the ledger writes resolve names with.
    pub fn ids(&self) -> Arc<IdCache> {
        Arc::clone(&self.ids)
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
                enqueue(q, &self.ids, f, move |r| {
                    let _ = tx.send(r);
                })?;
                rx.recv()
                    .map_err(|_| StoreError::Unavailable("the writer stopped".into()))?
            }
            Writer::Pool { pool, .. } => {
                let result = write_pooled(pool, f);
                if result.is_err() {
                    self.ids.clear();
                }
                result
            }
        }
    }

    /// Queues `f` on a group-committing writer and returns a future of its committed
    /// result, so an async caller needs no blocking thread. `lane` names what `f`
    /// locks (the site code of a ledger command): equal lanes never run concurrently.
    pub fn write_queued<T, F>(
        &self,
        lane: &str,
        f: F,
    ) -> futures_channel::oneshot::Receiver<Result<T, StoreError>>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    {
        let q = match &self.writer {
            Writer::Queue(q) => q,
            Writer::Pool { lanes, .. } => &lanes[lane_of(lane, lanes.len())],
        };
        let (tx, rx) = futures_channel::oneshot::channel();
        if let Err(e) = enqueue(q, &self.ids, f, move |r| {
            let _ = tx.send(r);
        }) {
            // The sender is dropped with the job: the caller sees the writer stopped.
            log::error!("{e}");
        }
        rx
    }
}

/// FNV-1a of the lane name, so one site always lands on one writer.
fn lane_of(name: &str, lanes: usize) -> usize {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    (h % lanes as u64) as usize
}

/// Puts `f` on the writer's queue; `reply` gets its result once the group committed.
fn enqueue<T, F>(
    q: &std::sync::mpsc::Sender<Job>,
    ids: &Arc<IdCache>,
    f: F,
    reply: impl FnOnce(Result<T, StoreError>) + Send + 'static,
) -> Result<(), StoreError>
where
    T: Send + 'static,
    F: FnMut(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
{
    let job: Job = Box::new(Queued {
        f,
        reply,
        ids: Arc::clone(ids),
        result: None,
    });
    q.send(job)
        .map_err(|_| StoreError::Unavailable("the writer stopped".into()))
}

fn write_pooled<T>(
    pool: &Pool,
    mut f: impl FnMut(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let mut conn = pool.get()?;
    let mut attempt = 1;
    loop {
        match conn.transaction(|c| f(c)) {
            Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                log::debug!("transaction retried after: {e}");
                attempt += 1;
                std::thread::sleep(Duration::from_millis(u64::from(attempt) * 2));
            }
            other => return other,
        }
    }
}

impl Db {
    /// Runs `f` on a reader connection.
    pub fn read<T>(
        &self,
        f: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.reader.get()?;
        f(&mut conn)
    }

    /// Cheap round trip for readiness checks.
    pub fn ping(&self) -> Result<(), StoreError> {
        use diesel::connection::SimpleConnection;
        self.read(|c| c.batch_execute("SELECT 1").map_err(StoreError::from))
    }
}
