//! SQLite WAL checkpoints, mostly off the write path. By default the connection whose
//! commit pushes the WAL past its threshold copies the whole log back into the database
//! there and then; with one writer that stalls every queued write. So the writer never
//! checkpoints on its own (`wal_autocheckpoint = 0`): a thread with its own connection
//! copies the log in PASSIVE mode, beside the writer. A checkpoint running beside a
//! writer can never finish the log (new frames keep arriving), and SQLite starts the
//! log over only when a writer finds it fully copied; so once the log is long, the
//! writer is asked to copy the last few frames itself between two group commits, and
//! its next transaction starts the log over. Durability is unchanged: a commit is in
//! the WAL before it is acknowledged, wherever the checkpoint runs.

use crate::connection::{DbConnection, Target};
use diesel::sql_types::Integer;
use diesel::{QueryableByName, RunQueryDsl, SqliteConnection};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::Duration;

/// How often the WAL is copied; a checkpoint with nothing to copy costs microseconds.
const PERIOD: Duration = Duration::from_millis(100);

/// WAL length (pages) at which the writer is asked to finish the copy so the log can
/// start over: 32768 pages is 128 MiB. While the writer finishes, every queued write
/// waits, mostly for the sync of the database file (about 20 ms measured on a
/// virtual disk, however little is left to copy). Under a flood of writes (about 2.5
/// pages each) a 16 MiB log asked for that five times a second and made the slowest
/// few percent of answers. A quiet database never gets near this: the checkpoint thread
/// copies the whole log and the next write starts it over.
const RESET_FRAMES: i32 = 32768;

#[derive(QueryableByName)]
struct Outcome {
    #[diesel(sql_type = Integer)]
    busy: i32,
    #[diesel(sql_type = Integer)]
    log: i32,
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
    while let Err(RecvTimeoutError::Timeout) = stop.recv_timeout(PERIOD) {
        match checkpoint(&mut conn) {
            Ok(o) if o.busy == 0 && o.log >= RESET_FRAMES => {
                finish_wanted.store(true, Ordering::Relaxed);
            }
            Ok(_) => {}
            Err(e) => log::warn!("WAL checkpoint: {e}"),
        }
    }
}
