//! Backups of an SQLite database: `VACUUM INTO` writes a consistent copy of one read
//! snapshot while writers go on (WAL readers never block the writer), compacted and
//! with nothing of the log left to replay. A restore checks a copy before it replaces
//! anything: SQLite's own integrity check, the schema brought up to date, and the
//! ledger's invariants. PostgreSQL is backed up with its own tools (`pg_dump`).

use crate::connection::{ConnectError, DbConnection, Target};
use crate::error::StoreError;
use crate::integrity;
use crate::migrations;
use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use ppe_domain::integrity::Violation;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "PostgreSQL is backed up with its own tools: pg_dump --format=custom --file=FILE \"$DATABASE_URL\", and restored with pg_restore --clean --if-exists --dbname=\"$DATABASE_URL\" FILE"
    )]
    Postgres,
    #[error("{0} already exists; choose a new file")]
    Exists(PathBuf),
    #[error("{0} does not exist")]
    Missing(PathBuf),
    #[error(transparent)]
    Connect(#[from] ConnectError),
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0} is not a sound SQLite database: {1}")]
    Corrupt(PathBuf, String),
    #[error("migrating the copy: {0}")]
    Migrate(Box<dyn std::error::Error + Send + Sync>),
    #[error("the copy breaks the ledger's invariants:\n{}", .0.iter().map(|v| format!("  {v}")).collect::<Vec<_>>().join("\n"))]
    Invariants(Vec<Violation>),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> BackupError + '_ {
    move |source| BackupError::Io {
        path: path.to_owned(),
        source,
    }
}

fn sqlite_path(target: &Target) -> Result<&str, BackupError> {
    match target {
        Target::Sqlite(p) => Ok(p),
        Target::Postgres(_) => Err(BackupError::Postgres),
    }
}

/// Writes a consistent copy of the database at `target` to `file`, which must not
/// exist. Safe while the service runs and writes.
pub fn backup(target: &Target, file: &Path) -> Result<(), BackupError> {
    sqlite_path(target)?;
    if file.exists() {
        return Err(BackupError::Exists(file.to_owned()));
    }
    let mut conn = target.connect()?;
    let dest = file.to_string_lossy().replace('\'', "''");
    diesel::sql_query(format!("VACUUM INTO '{dest}'"))
        .execute(&mut conn)
        .map_err(StoreError::from)?;
    Ok(())
}

#[derive(QueryableByName)]
struct IntegrityRow {
    #[diesel(sql_type = Text)]
    integrity_check: String,
}

/// Checks the backup `file` and, when it is sound, makes it the database at `target`.
/// The service must be stopped. The database it replaces is kept beside it as
/// `<name>.before-restore`. Returns that path.
pub fn restore(target: &Target, file: &Path) -> Result<Option<PathBuf>, BackupError> {
    let path = PathBuf::from(sqlite_path(target)?);
    if !file.exists() {
        return Err(BackupError::Missing(file.to_owned()));
    }
    // Checked and migrated as a copy next to the destination, so the final step is a
    // rename on one file system and the backup file itself stays untouched.
    let staged = with_suffix(&path, ".restoring");
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
    }
    std::fs::copy(file, &staged).map_err(io(&staged))?;
    let checked = check_copy(&staged);
    if let Err(e) = checked {
        let _ = std::fs::remove_file(&staged);
        return Err(e);
    }
    let aside = if path.exists() {
        // Fold the old database's log into its file first, so the file set aside is
        // complete on its own.
        let mut old = target.connect()?;
        diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&mut old)
            .map_err(StoreError::from)?;
        drop(old);
        let aside = with_suffix(&path, ".before-restore");
        std::fs::rename(&path, &aside).map_err(io(&aside))?;
        Some(aside)
    } else {
        None
    };
    for suffix in ["-wal", "-shm"] {
        let p = with_suffix(&path, suffix);
        if p.exists() {
            std::fs::remove_file(&p).map_err(io(&p))?;
        }
    }
    std::fs::rename(&staged, &path).map_err(io(&path))?;
    Ok(aside)
}

/// SQLite's integrity check, the schema migrated to this version, the invariants.
fn check_copy(staged: &Path) -> Result<(), BackupError> {
    let copy = Target::Sqlite(staged.to_string_lossy().into_owned());
    let mut conn = copy.connect()?;
    let rows = diesel::sql_query("PRAGMA integrity_check")
        .load::<IntegrityRow>(&mut conn)
        .map_err(|e| BackupError::Corrupt(staged.to_owned(), e.to_string()))?;
    let verdict: Vec<_> = rows.into_iter().map(|r| r.integrity_check).collect();
    if verdict != ["ok"] {
        return Err(BackupError::Corrupt(staged.to_owned(), verdict.join("; ")));
    }
    migrations::run_pending(&mut conn).map_err(BackupError::Migrate)?;
    let violations = integrity::check(&mut conn)?;
    if !violations.is_empty() {
        return Err(BackupError::Invariants(violations));
    }
    if let DbConnection::Sqlite(c) = &mut conn {
        diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(c)
            .map_err(StoreError::from)?;
    }
    drop(conn);
    for suffix in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(with_suffix(staged, suffix));
    }
    Ok(())
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}
