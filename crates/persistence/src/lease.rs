//! Work that one process of a deployment does for all (the forecast refresher): on
//! PostgreSQL the process holding a session-level advisory lock does it, on its own
//! connection, so any number of replicas can run with the same settings. When the
//! holder stops or its connection dies, the server releases the lock and the next
//! replica to ask takes it. An SQLite database belongs to one process, which always
//! holds the lease.

use crate::connection::{DbConnection, Target};
use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Bool};
use diesel::{QueryableByName, RunQueryDsl};

/// The advisory-lock keys (the one-number form) in use; one per kind of singleton work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(i64)]
pub enum LeaseKey {
    /// "PPE" and 1: the forecast refresher.
    ForecastRefresh = 0x0050_5045_0000_0001,
    /// Held while one process migrates the schema.
    Migrations = 0x0050_5045_0000_0002,
}

pub struct Lease {
    target: Target,
    key: LeaseKey,
    conn: Option<PgConnection>,
}

#[derive(QueryableByName)]
struct Taken {
    #[diesel(sql_type = Bool)]
    taken: bool,
}

impl Lease {
    pub fn new(target: Target, key: LeaseKey) -> Lease {
        Lease {
            target,
            key,
            conn: None,
        }
    }

    /// True while this process holds the lease; takes it when it is free.
    pub fn held(&mut self) -> bool {
        if matches!(self.target, Target::Sqlite(_)) {
            return true;
        }
        if let Some(c) = self.conn.as_mut() {
            if c.batch_execute("SELECT 1").is_ok() {
                return true;
            }
            log::warn!("lost the {:?} lease with its connection", self.key);
            self.conn = None;
        }
        let mut conn = match self.target.connect() {
            Ok(DbConnection::Postgresql(c)) => c,
            Ok(DbConnection::Sqlite(_)) => return true,
            Err(e) => {
                log::debug!("{:?} lease: {e}", self.key);
                return false;
            }
        };
        let taken = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS taken")
            .bind::<BigInt, _>(self.key as i64)
            .get_result::<Taken>(&mut conn)
            .map(|t| t.taken)
            .unwrap_or(false);
        if taken {
            log::info!("this process now holds the {:?} lease", self.key);
            self.conn = Some(conn);
        }
        taken
    }
}
