//! Storage errors. They name what went wrong in domain words and know nothing of HTTP;
//! the API maps each kind to a status.

use ppe_domain::validation::Violations;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A referenced thing does not exist; `field` is where the reference was.
    #[error("{field}: no {what} `{key}`")]
    NotFound {
        field: String,
        what: &'static str,
        key: String,
    },
    /// A unique value is already taken.
    #[error("{field}: `{value}` is already taken")]
    Duplicate { field: String, value: String },
    /// The request breaks a rule (field-level).
    #[error("{0}")]
    Invalid(Violations),
    /// Taking the quantity would make a balance negative.
    #[error(
        "site {site} holds {balance} of {item}{}, fewer than the {requested} requested",
        lot.as_ref().map(|l| format!(" (lot {l})")).unwrap_or_default()
    )]
    InsufficientStock {
        site: String,
        item: String,
        lot: Option<String>,
        balance: i64,
        requested: i64,
    },
    /// Stock a plan counted on is no longer there (another plan or a write took it).
    #[error("stock changed since planning: {}", .0.iter().map(|s| format!(
        "{} of {} lot `{}` for {} (the depot has {} of it free)",
        s.planned, s.item, s.lot, s.site, s.available)).collect::<Vec<_>>().join("; "))]
    StockChanged(Vec<Shortfall>),
    /// The request contradicts the state of what it names (field-level), e.g. more
    /// received than was shipped.
    #[error("{0}")]
    Contradicts(Violations),
    /// A state transition that cannot happen (e.g. receiving a transfer twice).
    #[error("{0}")]
    Conflict(String),
    /// The same idempotency key came with a different request.
    #[error("this Idempotency-Key was used for a different request")]
    IdempotencyMismatch,
    /// The database could not be reached in time.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// An answer could not be encoded (a bug, never the client's fault).
    #[error("encoding an answer: {0}")]
    Encode(String),
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
}

/// One planned line the depot cannot cover any more.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Shortfall {
    /// The unit the line goes to.
    pub site: String,
    pub item: String,
    pub lot: String,
    pub planned: i64,
    pub available: i64,
}

impl From<r2d2::Error> for StoreError {
    fn from(e: r2d2::Error) -> Self {
        StoreError::Unavailable(e.to_string())
    }
}

impl From<Violations> for StoreError {
    fn from(v: Violations) -> Self {
        StoreError::Invalid(v)
    }
}

impl StoreError {
    pub fn not_found(field: impl Into<String>, what: &'static str, key: impl Into<String>) -> Self {
        StoreError::NotFound {
            field: field.into(),
            what,
            key: key.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        StoreError::Invalid(Violations::single(field, message))
    }

    /// The request contradicts the state of what it names, at one field.
    pub fn contradicts(field: &str, message: impl Into<String>) -> StoreError {
        StoreError::Contradicts(Violations::single(field, message))
    }

    /// Concurrency losers worth running again: serialization failures, deadlocks and
    /// unique races on rows two transactions both tried to create.
    pub(crate) fn is_retryable(&self) -> bool {
        use diesel::result::{DatabaseErrorKind as K, Error as E};
        match self {
            StoreError::Database(E::DatabaseError(K::UniqueViolation, _)) => true,
            StoreError::Database(e) => lost_race(e),
            _ => false,
        }
    }

    /// The transaction lost a race to another one (deadlock, serialization failure):
    /// it must be rolled back whole and run again, never one statement of it alone.
    pub(crate) fn is_lost_race(&self) -> bool {
        matches!(self, StoreError::Database(e) if lost_race(e))
    }

    /// The same request may well succeed when sent again shortly: the database is
    /// unreachable, the connection was lost, or the write kept losing races. Answered
    /// 503 with `Retry-After`.
    pub fn is_transient(&self) -> bool {
        match self {
            StoreError::Unavailable(_) => true,
            StoreError::Database(e) => connection_lost(e) || lost_race(e),
            _ => false,
        }
    }
}

/// Deadlock (SQLSTATE 40P01), serialization failure (40001) or SQLite's busy lock.
pub(crate) fn lost_race(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    match e {
        E::DatabaseError(K::SerializationFailure, _) => true,
        E::DatabaseError(_, info) => {
            let m = info.message();
            m.contains("deadlock detected") || m.contains("database is locked")
        }
        _ => false,
    }
}

/// The error says the connection is gone, or the server is going away or not yet
/// back: the connection must be replaced, and what was in flight has an unknown outcome.
pub fn connection_lost(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind as K, Error as E};
    match e {
        E::DatabaseError(K::ClosedConnection, _) | E::BrokenTransactionManager => true,
        E::DatabaseError(_, info) => {
            let m = info.message();
            // libpq's and the server's words for a lost session (SQLSTATE class 57P,
            // 08): there is no error kind for them.
            [
                "no connection to the server",
                "server closed the connection",
                "terminating connection",
                "could not receive data from server",
                "could not send data to server",
                "the database system is",
                "connection to server",
                "SSL connection has been closed",
            ]
            .iter()
            .any(|w| m.contains(w))
        }
        _ => false,
    }
}
