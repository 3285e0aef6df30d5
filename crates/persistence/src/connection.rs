//! One connection type over SQLite and PostgreSQL. The backend is chosen from the URL
//! scheme here rather than by diesel's trial-and-error `establish`, so a user sees the
//! real cause ("connection refused", "password authentication failed").

use crate::health::Health;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, SqliteConnection};
use std::sync::Arc;

#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(SqliteConnection),
    Postgresql(PgConnection),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Whether movements become visible in id order, so that a reader who saw id `n`
    /// will never later see a new movement below it. SQLite takes ids inside its one
    /// write transaction at a time; PostgreSQL's sequences hand them out before
    /// commit, and concurrent transactions commit in any order.
    pub fn commits_in_id_order(self) -> bool {
        self == Backend::Sqlite
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("DATABASE_URL must start with sqlite:// or postgres://, got `{0}`")]
    Scheme(String),
    #[error("cannot open the SQLite database {path}: {source}")]
    Sqlite {
        path: String,
        source: diesel::ConnectionError,
    },
    #[error("cannot create the folder for the SQLite database {path}: {source}")]
    SqliteDir {
        path: String,
        source: std::io::Error,
    },
    #[error("cannot connect to PostgreSQL: {0}")]
    Postgres(diesel::ConnectionError),
    #[error("cannot set SQLite pragmas: {0}")]
    Pragma(diesel::result::Error),
    #[error("the database connection does not answer: {0}")]
    Probe(diesel::result::Error),
}

/// Where a database URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A file path (created if missing).
    Sqlite(String),
    Postgres(String),
}

impl Target {
    pub fn parse(url: &str) -> Result<Target, ConnectError> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            Ok(Target::Sqlite(path.to_owned()))
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            Ok(Target::Sqlite(path.to_owned()))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Target::Postgres(with_connect_timeout(url)))
        } else {
            Err(ConnectError::Scheme(redact(url)))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Target::Sqlite(_) => Backend::Sqlite,
            Target::Postgres(_) => Backend::Postgres,
        }
    }

    pub fn connect(&self) -> Result<DbConnection, ConnectError> {
        match self {
            Target::Sqlite(path) => {
                if let Some(dir) = std::path::Path::new(path).parent()
                    && !dir.as_os_str().is_empty()
                {
                    std::fs::create_dir_all(dir).map_err(|source| ConnectError::SqliteDir {
                        path: path.clone(),
                        source,
                    })?;
                }
                crate::wal_gather::install();
                let mut c =
                    SqliteConnection::establish(path).map_err(|source| ConnectError::Sqlite {
                        path: path.clone(),
                        source,
                    })?;
                // busy_timeout first: the others may need the lock. WAL lets readers run
                // beside the writer; NORMAL sync is durable across process crashes in WAL.
                // Temp storage in memory keeps the savepoint journals of group commits
                // off the disk. The page cache is 4 MiB, not more: a commit whose inserts
                // split b-tree pages afterwards walks every slot of the cache (SQLite
                // renumbers the split pages through a spare page number past the end of
                // the file, and the cache then drops every page past the end), so a
                // bigger cache makes such commits slower while the writer's working set
                // (the last leaf of each index range it appends to) fits in this one.
                c.batch_execute(
                    "PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA temp_store = MEMORY; PRAGMA cache_size = -4000;",
                )
                .map_err(ConnectError::Pragma)?;
                Ok(DbConnection::Sqlite(c))
            }
            Target::Postgres(url) => {
                init_tls();
                PgConnection::establish(url)
                    .map(DbConnection::Postgresql)
                    .map_err(ConnectError::Postgres)
            }
        }
    }
}

/// libpq waits for an unreachable host as long as the operating system does (minutes):
/// unless the URL says otherwise, a connection attempt gives up after a few seconds, so
/// a writer that lost its database keeps retrying and answers 503 meanwhile.
fn with_connect_timeout(url: &str) -> String {
    if url.contains("connect_timeout=") {
        url.to_owned()
    } else {
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}connect_timeout={CONNECT_TIMEOUT_SECONDS}")
    }
}

const CONNECT_TIMEOUT_SECONDS: u32 = 3;

/// Initialises OpenSSL before libpq does, without its exit-time cleanup: that cleanup
/// frees what threads still holding TLS connections (writers, pools) may be using
/// while the process exits, and crashes it. Cheap after the first call.
pub fn init_tls() {
    openssl_sys::init();
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}://{}:***{}", &url[..s], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// A pooled connection and the health generation it was last known good in.
pub struct Pooled {
    conn: DbConnection,
    generation: u64,
    /// A query on it failed because the connection is gone: the pool drops it.
    lost: bool,
}

impl Pooled {
    /// Marks the connection dead when `e` says so, and tells everyone else.
    pub(crate) fn note_error(&mut self, e: &crate::StoreError, health: &Health) {
        if let crate::StoreError::Database(d) = e
            && crate::error::connection_lost(d)
        {
            self.lost = true;
            health.saw_dead_connection();
        }
    }
}

impl std::ops::Deref for Pooled {
    type Target = DbConnection;
    fn deref(&self) -> &DbConnection {
        &self.conn
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut DbConnection {
        &mut self.conn
    }
}

/// r2d2 manager over `Target`. Checkout costs no round trip while no connection has
/// been seen dead; after that, each older connection is probed once before reuse, so
/// that a database restart costs at most one failed request, not one per pooled
/// connection.
#[derive(Debug, Clone)]
pub struct Manager {
    pub target: Target,
    pub health: Arc<Health>,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Pooled;
    type Error = ConnectError;

    fn connect(&self) -> Result<Pooled, ConnectError> {
        let conn = self.target.connect();
        self.health.connect_result(conn.is_ok());
        Ok(Pooled {
            generation: self.health.generation(),
            conn: conn?,
            lost: false,
        })
    }

    fn is_valid(&self, conn: &mut Pooled) -> Result<(), ConnectError> {
        let now = self.health.generation();
        if conn.generation != now {
            conn.batch_execute("SELECT 1")
                .map_err(ConnectError::Probe)?;
            conn.generation = now;
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut Pooled) -> bool {
        conn.lost || diesel::r2d2::R2D2Connection::is_broken(&mut conn.conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_picks_backend_and_password_is_redacted() {
        assert_eq!(
            Target::parse("sqlite://data/ppe.db").unwrap(),
            Target::Sqlite("data/ppe.db".into())
        );
        assert_eq!(
            Target::parse("postgres://u:pw@h/db").unwrap().backend(),
            Backend::Postgres
        );
        assert!(matches!(
            Target::parse("mysql://x"),
            Err(ConnectError::Scheme(_))
        ));
        assert_eq!(
            Target::parse("postgres://h/db?sslmode=require").unwrap(),
            Target::Postgres("postgres://h/db?sslmode=require&connect_timeout=3".into())
        );
        assert_eq!(
            Target::parse("postgres://h/db?connect_timeout=9").unwrap(),
            Target::Postgres("postgres://h/db?connect_timeout=9".into())
        );
        assert_eq!(
            redact("postgres://u:secret@h:5432/db"),
            "postgres://u:***@h:5432/db"
        );
    }
}
