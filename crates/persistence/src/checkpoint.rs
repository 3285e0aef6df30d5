//! SQLite WAL checkpoints, mostly off the write path. By default the connection whose
//! commit pushes the WAL past its threshold copies the whole log back into the database
//! there and then; with one writer that stalls every queued write. So the writer never
//! checkpoints on its own (`wal_autocheckpoint = 0`): a thread with its own connection
//! copies the log in PASSIVE mode, beside the writer. A checkpoint running beside a
//! writer can never finish the log (new frames keep arriving), and SQLite starts the
//! log over only when a writer finds it fully copied; so once the log is long, the
//! thread first catches up until only a few frames are left, then the writer is asked
//! to copy those itself between two group commits, and its next transaction starts
//! the log over. Durability is unchanged: a commit is in the WAL before it is
//! acknowledged, wherever the checkpoint runs.

use crate::connection::{DbConnection, Target};
use diesel::sql_types::Integer;
use diesel::{QueryableByName, RunQueryDsl, SqliteConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// How often the WAL is copied; a checkpoint with nothing to copy costs microseconds.
const PERIOD: Duration = Duration::from_millis(100);

/// WAL length (pages) at which the log should start over: 32768 pages is 128 MiB. A
/// quiet database never gets near this: the checkpoint thread copies the whole log and
/// the next write starts it over.
const RESET_FRAMES: i32 = 32768;

/// Frames left uncopied (2 MiB) below which the writer is asked to finish. While the
/// writer finishes, every queued write waits for it, and what it waits for is the
/// sync of the log and then of the database file, whose cost grows with what has been
/// written to each since its last sync: on a virtual disk 1 MiB syncs in about a
/// millisecond, 64 MiB in 15. SQLite syncs the database file only at the end of a
/// checkpoint that copied the whole log, so under a flood of writes the thread's
/// copies of a whole log cycle waited, unsynced, for the writer's finish, which then
/// stalled 15–30 ms. So before asking, the thread syncs the database file itself and
/// copies what arrived meanwhile, leaving the writer a few hundred pages.
const FINISH_BACKLOG: i32 = 512;

/// Catch-up rounds the thread runs back to back before it gives up for this period.
const CATCH_UP_ROUNDS: u32 = 8;

/// WAL length at which the writer is asked to finish whatever is left: a log that the
/// thread cannot catch up with must still end.
const HARD_RESET_FRAMES: i32 = 4 * RESET_FRAMES;

#[derive(QueryableByName)]
struct Outcome {
    #[diesel(sql_type = Integer)]
    busy: i32,
    #[diesel(sql_type = Integer)]
    log: i32,
    #[diesel(sql_type = Integer)]
    checkpointed: i32,
}

impl Outcome {
    fn backlog(&self) -> i32 {
        self.log - self.checkpointed
    }
}

/// The writer's side: whether it should finish a checkpoint between two groups.
#[derive(Clone)]
pub(crate) struct Checkpointer {
    finish_wanted: Arc<AtomicBool>,
    /// Keeps the thread running; it stops when the last clone is dropped.
    _alive: Arc<Sender<()>>,
}

impl Checkpointer {
    /// Called by the writer between group commits.
    pub(crate) fn after_commit(&self, conn: &mut DbConnection) {
        if !self.finish_wanted.swap(false, Ordering::Relaxed) {
            return;
        }
        if let DbConnection::Sqlite(c) = conn
            && let Err(e) = checkpoint(c)
        {
            log::warn!("WAL checkpoint by the writer: {e}");
        }
    }

    /// Called by the writer when it stops: copies the whole log into the database
    /// file and empties it, so the file alone is a complete copy.
    pub(crate) fn on_close(&self, conn: &mut DbConnection) {
        if let DbConnection::Sqlite(c) = conn
            && let Err(e) =
                diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").get_result::<Outcome>(c)
        {
            log::warn!("final WAL checkpoint: {e}");
        }
    }
}

fn sync(file: &std::fs::File) {
    if let Err(e) = file.sync_data() {
        log::warn!("syncing the database file ahead of a WAL reset: {e}");
    }
}

fn checkpoint(c: &mut SqliteConnection) -> diesel::QueryResult<Outcome> {
    diesel::sql_query("PRAGMA wal_checkpoint(PASSIVE)").get_result::<Outcome>(c)
}

/// Starts the checkpoint thread for the database at `target`.
pub(crate) fn spawn(target: &Target) -> Result<Checkpointer, std::io::Error> {
    let target = target.clone();
    let (alive, stop) = std::sync::mpsc::channel();
    let finish_wanted = Arc::new(AtomicBool::new(false));
    let wanted = Arc::clone(&finish_wanted);
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || run(&target, &stop, &wanted))?;
    Ok(Checkpointer {
        finish_wanted,
        _alive: Arc::new(alive),
    })
}

fn run(target: &Target, stop: &Receiver<()>, finish_wanted: &AtomicBool) {
    crate::priority::lower_this_thread();
    let mut conn = match target.connect() {
        Ok(DbConnection::Sqlite(c)) => c,
        Ok(_) => return,
        Err(e) => {
            log::error!("WAL checkpoints stopped: {e}");
            return;
        }
    };
    // A handle on the database file to sync it by; without one (an unusual path) the
    // writer's finish syncs it all, only slower.
    let file = match target {
        Target::Sqlite(path) => std::fs::File::open(path)
            .inspect_err(|e| log::warn!("WAL checkpoints cannot sync {path} ahead: {e}"))
            .ok(),
        Target::Postgres(_) => None,
    };
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(PERIOD) {
        if let Err(e) = round(&mut conn, file.as_ref(), finish_wanted) {
            log::warn!("WAL checkpoint: {e}");
        }
    }
}

/// One period's work: copy the log; when it is long, catch up with the writer until
/// little is left, sync the database file, copy what came meanwhile, and only then ask
/// the writer to finish. A log already copied whole needs nothing: the writer's next
/// transaction starts it over by itself.
fn round(
    conn: &mut SqliteConnection,
    file: Option<&std::fs::File>,
    finish_wanted: &AtomicBool,
) -> diesel::QueryResult<()> {
    let mut o = checkpoint(conn)?;
    if o.busy != 0 || o.log < RESET_FRAMES || o.backlog() == 0 {
        return Ok(());
    }
    for _ in 0..CATCH_UP_ROUNDS {
        if o.busy != 0 || o.backlog() <= FINISH_BACKLOG {
            break;
        }
        o = checkpoint(conn)?;
    }
    let caught_up = o.backlog() <= FINISH_BACKLOG;
    if o.busy != 0 || !(caught_up || o.log >= HARD_RESET_FRAMES) {
        return Ok(());
    }
    if let Some(file) = file {
        // Each sync covers the copies made before it; each copy after the first is of
        // what arrived during the sync before it, fewer pages each time. The writer is
        // left what arrives after the last.
        sync(file);
        for _ in 0..2 {
            checkpoint(conn)?;
            sync(file);
        }
    }
    finish_wanted.store(true, Ordering::Relaxed);
    Ok(())
}
