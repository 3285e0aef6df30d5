//! The database handle: pools, migrations and the transaction policy.
//! SQLite allows one writer at a time, so writes go through a single dedicated
//! connection while a pool of readers serves reads beside it (WAL). PostgreSQL
//! writes through a pool, and row locks order concurrent writers.

use crate::connection::{Backend, ConnectError, DbConnection, Manager, Target, redact};
use crate::error::StoreError;
use crate::migrations;
use diesel::Connection;
use std::time::Duration;

pub type Pool = r2d2::Pool<Manager>;

#[derive(Debug, Clone)]
pub struct DbOptions {
    pub readers: u32,
    /// Writers on PostgreSQL (SQLite always has one).
    pub pg_writers: u32,
    pub connect_timeout: Duration,
}

impl Default for DbOptions {
    fn default() -> Self {
        DbOptions {
            readers: 8,
            pg_writers: 8,
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

#[derive(Clone)]
pub struct Db {
    backend: Backend,
    writer: Pool,
    reader: Pool,
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
        drop(first);
        let backend = target.backend();
        let writers = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => opts.pg_writers.max(1),
        };
        let build = |size: u32| {
            r2d2::Pool::builder()
                .max_size(size)
                .min_idle(Some(1))
                .connection_timeout(opts.connect_timeout)
                .build(Manager(target.clone()))
        };
        let writer = build(writers)?;
        let reader = build(opts.readers.max(1))?;
        Ok(Db {
            backend,
            writer,
            reader,
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Runs `f` in one transaction on a writer connection, again from the start when
    /// it lost a race to a concurrent writer. All or nothing: an error rolls back.
    pub fn write<T>(
        &self,
        mut f: impl FnMut(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut conn = self.writer.get()?;
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
