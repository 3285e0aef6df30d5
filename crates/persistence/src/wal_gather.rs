//! A SQLite VFS that writes each commit's WAL frames in one system call.
//!
//! SQLite appends a frame to the write-ahead log as two writes: the 24-byte frame
//! header, then the page (file format, section 4.1 "WAL File Format",
//! <https://www.sqlite.org/fileformat2.html#walformat>). A frame is 4,120 bytes, so it
//! straddles the kernel's 4 KiB page-cache pages, and each of a commit's frames costs
//! two trips through the file system's write path, each looking up, locking and
//! marking the cache pages it touches. A group commit of the ledger appends dozens of
//! frames; gathered into one write, the same bytes reach the page cache through each
//! cache page once.
//!
//! The shim sits over the platform's default VFS and changes nothing but when WAL
//! appends reach it:
//! - a frame header written at a frame boundary, right where the last write to the log
//!   ended, starts a run of appends held in memory; later writes that extend the run
//!   join it;
//! - the run is written when the commit frame's page joins it (a commit frame is the
//!   one whose header gives the database size, bytes 4–7, non-zero), before SQLite
//!   publishes the commit in the WAL index and before COMMIT returns. So a commit is
//!   in the operating system's hands when it is acknowledged, as without the shim; and
//!   other connections, which read only frames the index publishes, never miss one;
//! - any other write (the log's header, a frame rewritten in place, a checksum
//!   rewritten) writes the run first and then goes straight through, and so does every
//!   other operation on the file (read, size, truncate, sync, control): through the
//!   shim the file is always the file as SQLite wrote it;
//! - a run is also written once it holds [`MAX_RUN`] bytes (a transaction larger than
//!   the page cache spills frames before its commit);
//! - a run still held when the connection releases the log's write lock belongs to a
//!   transaction that rolled back (a committed one was written at its commit): it is
//!   dropped there, while the lock is still held, so it can never land on frames that
//!   another connection appends afterwards. The shim learns of that release through
//!   the database file's `xShmLock`, so it gathers only for a log whose database file
//!   it opened too;
//! - a failed write keeps what it could not write, to be written again before anything
//!   else reaches the file, so a frame SQLite counts as written is never skipped.
//!
//! Other files are opened by the default VFS as they are. The shim's state lives
//! after the default VFS's file object in the same allocation (this VFS asks for room
//! for both), so the default VFS's own methods, used unchanged for locking and the
//! rest, get the pointer they expect.
#![allow(unsafe_code)]

use libsqlite3_sys as ffi;
use std::collections::HashMap;
use std::ffi::{CStr, c_int, c_void};
use std::sync::{Mutex, OnceLock};

/// The name this VFS is registered under.
const NAME: &CStr = c"ppe-gathered-wal";

/// Bytes a run holds before it is written without waiting for its commit.
const MAX_RUN: usize = 4 << 20;

/// Bytes handed to the default VFS per write: SQLite's unix VFS writes at most
/// 128 KiB − 1 bytes per call (`seekAndWrite` masks the count with 0x1ffff) and takes
/// a shorter write as a full disk, so a run goes down in pieces of 30 pages.
const MAX_WRITE: usize = 30 * 4096;

/// Size of a WAL frame header, and of the log's own header before the first frame.
const FRAME_HEADER: usize = 24;
const LOG_HEADER: usize = 32;

/// The log's write lock: slot 0 of the WAL index's locks (`WAL_WRITE_LOCK` in SQLite).
const WAL_WRITE_LOCK: c_int = 0;

/// Registers the VFS as the process's default, once, so that every SQLite connection
/// opened afterwards uses it. A failure leaves SQLite's default in place: the shim is
/// only about speed.
pub(crate) fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if let Err(e) = register() {
            log::warn!("SQLite WAL writes stay frame by frame: {e}");
        }
    });
}

fn register() -> Result<(), String> {
    // SAFETY: sqlite3_vfs_find is thread-safe and returns a VFS that stays registered
    // for the life of the process (the default one is never unregistered here).
    let inner = unsafe { ffi::sqlite3_vfs_find(std::ptr::null()) };
    if inner.is_null() {
        return Err("SQLite has no default VFS".into());
    }
    // SAFETY: `inner` is a valid, registered VFS; it is only read.
    let base = unsafe { &*inner };
    if base.xOpen.is_none() {
        return Err("the default VFS cannot open files".into());
    }
    let outer = ffi::sqlite3_vfs {
        szOsFile: state_offset(base.szOsFile) + std::mem::size_of::<Shim>() as c_int,
        pNext: std::ptr::null_mut(),
        zName: NAME.as_ptr(),
        xOpen: Some(open),
        ..*base
    };
    INNER.set(Inner(inner)).map_err(|_| "registered twice")?;
    let outer = Box::leak(Box::new(outer));
    // SAFETY: `outer` lives for the rest of the process and is fully initialised.
    let rc = unsafe { ffi::sqlite3_vfs_register(outer, 1) };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(format!("sqlite3_vfs_register failed ({rc})"))
    }
}

/// The default VFS this one sits over.
struct Inner(*mut ffi::sqlite3_vfs);
// SAFETY: a registered VFS is immutable and usable from any thread.
unsafe impl Send for Inner {}
unsafe impl Sync for Inner {}
static INNER: OnceLock<Inner> = OnceLock::new();

fn inner_vfs() -> *mut ffi::sqlite3_vfs {
    INNER.get().expect("installed before any open").0
}

/// Where the shim's state starts within a file object: after the default VFS's.
fn state_offset(inner_size: c_int) -> c_int {
    let align = std::mem::align_of::<Shim>() as c_int;
    (inner_size + align - 1) / align * align
}

/// The logs open through this VFS, by the name of their database: the database file
/// name pointer SQLite hands to `xOpen` (one per connection) → the log's file object,
/// 0 while the connection has no log open.
fn logs() -> std::sync::MutexGuard<'static, HashMap<usize, usize>> {
    static LOGS: OnceLock<Mutex<HashMap<usize, usize>>> = OnceLock::new();
    LOGS.get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner())
}

/// What the shim keeps beside a file it wraps.
enum Shim {
    Log(Run),
    Database(Database),
}

/// A database file: its name, which its log is found by.
struct Database {
    inner: *const ffi::sqlite3_io_methods,
    name: usize,
}

/// Appends held back for one WAL file.
struct Run {
    /// The default VFS's methods for this file, which the shim's own call on.
    inner: *const ffi::sqlite3_io_methods,
    /// The database's name in [`logs`]; whether its file is one of the shim's, which
    /// the shim must see release the write lock before it may hold anything back.
    database: usize,
    paired: bool,
    /// The log's page size, from its header, once known.
    page_size: Option<i64>,
    /// File offset of `bytes[0]`.
    start: i64,
    bytes: Vec<u8>,
    /// The commit frame's header is in the run: its page completes the commit.
    commit_follows: bool,
    /// Where the last write to the file ended, held back or not. A run starts only
    /// there, so it holds nothing but appends in the order SQLite made them: a frame
    /// rewritten in place or a checksum rewritten behind the log's end goes straight
    /// through.
    last_end: i64,
}

impl Run {
    fn end(&self) -> i64 {
        self.start + self.bytes.len() as i64
    }

    /// Forgets what is held (a rolled-back transaction's frames).
    fn drop_held(&mut self) {
        self.bytes.clear();
        self.commit_follows = false;
        self.last_end = -1;
    }
}

/// The shim's state of a file opened by [`open`].
///
/// # Safety
/// `file` must be a file object that [`open`] wrapped and that is not closed yet, and
/// no other reference to its state may be alive.
unsafe fn shim<'a>(file: *mut ffi::sqlite3_file) -> &'a mut Shim {
    // SAFETY: `open` wrote a Shim at this offset, inside the szOsFile bytes SQLite
    // allocated for the file; SQLite uses a file object from one thread at a time.
    unsafe {
        let offset = state_offset((*inner_vfs()).szOsFile) as usize;
        &mut *file.cast::<u8>().add(offset).cast::<Shim>()
    }
}

/// The run of a WAL file.
///
/// # Safety
/// As for [`shim`], and `file` must be a log.
unsafe fn run<'a>(file: *mut ffi::sqlite3_file) -> &'a mut Run {
    // SAFETY: the caller's guarantee.
    match unsafe { shim(file) } {
        Shim::Log(r) => r,
        Shim::Database(_) => unreachable!("a log's methods on a database file"),
    }
}

/// Writes the run, if any, through the default VFS. What fails to be written stays
/// held, ahead of anything written later.
///
/// # Safety
/// As for [`run`].
unsafe fn flush(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: the caller's guarantee.
    let r = unsafe { run(file) };
    r.commit_follows = false;
    let mut written = 0;
    let mut rc = ffi::SQLITE_OK;
    for piece in r.bytes.chunks(MAX_WRITE) {
        // SAFETY: `r.inner` is the default VFS's method table for this very file
        // object, and the piece outlives the call.
        rc = unsafe {
            ((*r.inner).xWrite.expect("every VFS writes"))(
                file,
                piece.as_ptr().cast::<c_void>(),
                piece.len() as c_int,
                r.start + written as i64,
            )
        };
        if rc != ffi::SQLITE_OK {
            break;
        }
        written += piece.len();
    }
    r.bytes.drain(..written);
    r.start += written as i64;
    rc
}

/// Writes the run, then runs `then` with the default VFS's methods.
///
/// # Safety
/// As for [`run`].
unsafe fn flushed(
    file: *mut ffi::sqlite3_file,
    then: impl FnOnce(&ffi::sqlite3_io_methods) -> c_int,
) -> c_int {
    // SAFETY: the caller's guarantee; the run's reference ends before `then`.
    unsafe {
        let rc = flush(file);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        then(&*run(file).inner)
    }
}

/// The page size a WAL header gives (bytes 8–11, big-endian).
fn page_size_of(log_header: &[u8]) -> Option<i64> {
    let size = u32::from_be_bytes(log_header.get(8..12)?.try_into().ok()?);
    (512..=65536).contains(&size).then_some(i64::from(size))
}

/// Whether `offset` is where a frame starts in a log of `page_size` pages.
fn frame_start(offset: i64, page_size: i64) -> bool {
    let header = LOG_HEADER as i64;
    offset >= header && (offset - header) % (page_size + FRAME_HEADER as i64) == 0
}

/// Whether `bytes`, written at `offset`, is a frame header; and whether of a commit.
fn frame_header(bytes: &[u8], offset: i64, page_size: Option<i64>) -> Option<bool> {
    let at_frame = page_size.is_some_and(|p| frame_start(offset, p));
    (bytes.len() == FRAME_HEADER && at_frame).then(|| bytes[4..8].iter().any(|b| *b != 0))
}

unsafe extern "C" fn open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let inner = inner_vfs();
    // SAFETY: `inner` is the registered default VFS; `file` has room for its file
    // object (this VFS's szOsFile is larger), which it initialises.
    let rc = unsafe {
        ((*inner).xOpen.expect("checked at registration"))(inner, name, file, flags, out_flags)
    };
    let log = flags & ffi::SQLITE_OPEN_WAL != 0;
    let database = flags & ffi::SQLITE_OPEN_MAIN_DB != 0;
    if rc != ffi::SQLITE_OK || name.is_null() || !(log || database) {
        return rc;
    }
    // SAFETY: the open succeeded, so `pMethods` is the default VFS's table for this
    // file; the state's bytes are within the allocation and not yet initialised. A log's
    // name is one SQLite made from its database's, which sqlite3_filename_database
    // walks back to.
    unsafe {
        let inner_methods = (*file).pMethods;
        if inner_methods.is_null() {
            return rc;
        }
        let offset = state_offset((*inner).szOsFile) as usize;
        let state = file.cast::<u8>().add(offset).cast::<Shim>();
        if log {
            let database = ffi::sqlite3_filename_database(name) as usize;
            let paired = match logs().get_mut(&database) {
                Some(slot) => {
                    *slot = file as usize;
                    true
                }
                None => false,
            };
            state.write(Shim::Log(Run {
                inner: inner_methods,
                database,
                paired,
                page_size: None,
                start: 0,
                bytes: Vec::new(),
                commit_follows: false,
                last_end: -1,
            }));
            (*file).pMethods = methods_over(inner_methods, Kind::Log);
        } else {
            // Without shared-memory locks (exclusive locking mode) the shim cannot see
            // the write lock released, and its log is never gathered.
            if (*inner_methods).xShmLock.is_some() {
                logs().insert(name as usize, 0);
            }
            state.write(Shim::Database(Database {
                inner: inner_methods,
                name: name as usize,
            }));
            (*file).pMethods = methods_over(inner_methods, Kind::Database);
        }
    }
    ffi::SQLITE_OK
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Log,
    Database,
}

/// The shim's method table over a default VFS's table: the same methods, but for
/// those the shim must see (see the module's documentation).
fn methods_over(
    inner: *const ffi::sqlite3_io_methods,
    kind: Kind,
) -> *const ffi::sqlite3_io_methods {
    static TABLES: Mutex<Vec<(usize, Kind, usize)>> = Mutex::new(Vec::new());
    let mut tables = TABLES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((.., ours)) = tables
        .iter()
        .find(|(theirs, k, _)| *theirs == inner as usize && *k == kind)
    {
        return *ours as *const ffi::sqlite3_io_methods;
    }
    // SAFETY: a VFS's method tables are static.
    let base = unsafe { &*inner };
    let table = match kind {
        Kind::Log => ffi::sqlite3_io_methods {
            xClose: Some(close_log),
            xRead: Some(read),
            xWrite: Some(write),
            xTruncate: Some(truncate),
            xSync: Some(sync),
            xFileSize: Some(file_size),
            xFileControl: Some(file_control),
            ..*base
        },
        Kind::Database => ffi::sqlite3_io_methods {
            xClose: Some(close_database),
            xShmLock: base.xShmLock.map(|_| shm_lock as _),
            ..*base
        },
    };
    let ours: &'static ffi::sqlite3_io_methods = Box::leak(Box::new(table));
    tables.push((inner as usize, kind, ours as *const _ as usize));
    ours
}

/// The log's page size: from the header SQLite wrote through this file, else read
/// from the file's first bytes.
///
/// # Safety
/// As for [`run`].
unsafe fn page_size(file: *mut ffi::sqlite3_file) -> Option<i64> {
    // SAFETY: the caller's guarantee; the header is read into a local buffer.
    unsafe {
        let r = run(file);
        if r.page_size.is_none() {
            let mut header = [0u8; LOG_HEADER];
            let rc = ((*r.inner).xRead.expect("every VFS reads"))(
                file,
                header.as_mut_ptr().cast::<c_void>(),
                LOG_HEADER as c_int,
                0,
            );
            if rc == ffi::SQLITE_OK {
                run(file).page_size = page_size_of(&header);
            }
        }
        run(file).page_size
    }
}

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite passes a file this VFS opened as a WAL, and `amount` bytes at
    // `data`; each reference to the run ends before the next is taken.
    unsafe {
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), amount.max(0) as usize);
        if offset == 0 && bytes.len() >= LOG_HEADER {
            run(file).page_size = page_size_of(bytes);
        }
        let header = if run(file).paired && bytes.len() == FRAME_HEADER {
            frame_header(bytes, offset, page_size(file))
        } else {
            None
        };
        let r = run(file);
        if !r.bytes.is_empty() && offset == r.end() {
            r.bytes.extend_from_slice(bytes);
            r.last_end = r.end();
            if (r.commit_follows && header.is_none()) || r.bytes.len() >= MAX_RUN {
                return flush(file);
            }
            r.commit_follows |= header == Some(true);
            return ffi::SQLITE_OK;
        }
        let starts_run = header.is_some() && offset == r.last_end;
        let rc = flush(file);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let r = run(file);
        r.last_end = offset + i64::from(amount);
        if starts_run {
            r.start = offset;
            r.bytes.extend_from_slice(bytes);
            r.commit_follows = header == Some(true);
            return ffi::SQLITE_OK;
        }
        ((*r.inner).xWrite.expect("every VFS writes"))(file, data, amount, offset)
    }
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    data: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    // SAFETY: SQLite passes a file this VFS opened as a WAL.
    unsafe {
        flushed(file, |m| {
            (m.xRead.expect("every VFS reads"))(file, data, amount, offset)
        })
    }
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    // SAFETY: as for `read`.
    unsafe {
        flushed(file, |m| {
            (m.xTruncate.expect("every VFS truncates"))(file, size)
        })
    }
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    // SAFETY: as for `read`.
    unsafe { flushed(file, |m| (m.xSync.expect("every VFS syncs"))(file, flags)) }
}

unsafe extern "C" fn file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    // SAFETY: as for `read`.
    unsafe {
        flushed(file, |m| {
            (m.xFileSize.expect("every VFS sizes files"))(file, size)
        })
    }
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    // SAFETY: as for `read`.
    unsafe {
        flushed(file, |m| {
            (m.xFileControl.expect("every VFS has file controls"))(file, op, arg)
        })
    }
}

unsafe extern "C" fn close_log(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as for `read`. Whatever is still held belongs to no commit (a commit is
    // written when its last frame arrives), so it is dropped, not written. The state is
    // dropped after the file is closed and never used again (SQLite frees the object).
    unsafe {
        let r = run(file);
        r.drop_held();
        let (inner, database) = (r.inner, r.database);
        if let Some(slot) = logs().get_mut(&database)
            && *slot == file as usize
        {
            *slot = 0;
        }
        let closed = ((*inner).xClose.expect("every VFS closes"))(file);
        std::ptr::drop_in_place(std::ptr::from_mut(shim(file)));
        closed
    }
}

unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    // SAFETY: SQLite passes a database file this VFS opened; its log, if open, is used
    // by the same connection, on this thread.
    unsafe {
        let Shim::Database(db) = shim(file) else {
            unreachable!("a database's methods on a log")
        };
        let (inner, name) = (db.inner, db.name);
        let releases_write_lock = offset == WAL_WRITE_LOCK
            && n == 1
            && flags == ffi::SQLITE_SHM_UNLOCK | ffi::SQLITE_SHM_EXCLUSIVE;
        if releases_write_lock && let Some(log) = logs().get(&name).copied().filter(|l| *l != 0) {
            run(log as *mut ffi::sqlite3_file).drop_held();
        }
        ((*inner).xShmLock.expect("wrapped only when present"))(file, offset, n, flags)
    }
}

unsafe extern "C" fn close_database(file: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: as for `shm_lock`; the state is dropped after the file is closed.
    unsafe {
        let Shim::Database(db) = shim(file) else {
            unreachable!("a database's methods on a log")
        };
        let (inner, name) = (db.inner, db.name);
        logs().remove(&name);
        let closed = ((*inner).xClose.expect("every VFS closes"))(file);
        std::ptr::drop_in_place(std::ptr::from_mut(shim(file)));
        closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::{DbConnection, Target};
    use crate::testing::query_count_at;
    use diesel::connection::SimpleConnection;

    fn connect(path: &std::path::Path) -> diesel::SqliteConnection {
        match Target::Sqlite(path.display().to_string()).connect() {
            Ok(DbConnection::Sqlite(c)) => c,
            Ok(_) => unreachable!("a SQLite target"),
            Err(e) => panic!("connecting to {}: {e}", path.display()),
        }
    }

    /// What a crash leaves: the database file and its log as the operating system
    /// holds them now, copied while the writer's connection is still open, then
    /// opened fresh so that SQLite recovers the log from the file alone.
    fn crash_copy(from: &std::path::Path, to: &std::path::Path) -> String {
        std::fs::copy(from, to).unwrap();
        let mut wal = from.as_os_str().to_owned();
        wal.push("-wal");
        let mut wal_to = to.as_os_str().to_owned();
        wal_to.push("-wal");
        std::fs::copy(&wal, &wal_to).unwrap();
        format!("sqlite://{}", to.display())
    }

    #[test]
    fn connections_use_the_gathering_vfs() {
        let dir = tempfile::tempdir().unwrap();
        drop(connect(&dir.path().join("a.db")));
        // SAFETY: looking up the default VFS only reads SQLite's registry.
        let default = unsafe { CStr::from_ptr((*ffi::sqlite3_vfs_find(std::ptr::null())).zName) };
        assert_eq!(default, NAME);
        // A connection's log is paired with its database file, or nothing is gathered.
        let mut c = connect(&dir.path().join("b.db"));
        c.batch_execute("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
        let log = logs().values().copied().find(|l| *l != 0);
        let log = log.expect("the connection's log is registered with its database");
        // SAFETY: the log belongs to the open connection `c`, which is idle.
        assert!(unsafe { run(log as *mut ffi::sqlite3_file) }.paired);
    }

    /// Every commit is in the files when COMMIT returns, whatever its size: small
    /// commits of one frame, commits of many frames, and a transaction larger than
    /// the page cache, whose frames spill before its commit.
    #[test]
    fn every_commit_is_in_the_log_when_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ppe.db");
        let mut c = connect(&path);
        c.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, k INTEGER, body BLOB); CREATE INDEX t_k ON t (k);")
            .unwrap();
        let mut expected = 0;
        for (round, rows) in [1, 1, 40, 3, 2_000, 1, 25].into_iter().enumerate() {
            c.batch_execute(&format!(
                "BEGIN; \
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) \
                 INSERT INTO t (k, body) SELECT (i * 7919) % 1000, randomblob(3000) FROM n; \
                 COMMIT;"
            ))
            .unwrap();
            expected += rows;
            let copy = crash_copy(&path, &dir.path().join(format!("copy{round}.db")));
            assert_eq!(
                query_count_at(&copy, "SELECT count(*) FROM t"),
                expected,
                "after commit {round}"
            );
            assert_eq!(
                query_count_at(&copy, "SELECT count(*) FROM t INDEXED BY t_k WHERE k >= 0"),
                expected,
                "the index of commit {round}"
            );
        }
        // A rolled-back transaction leaves nothing behind, and the next commit counts.
        c.batch_execute(
            "BEGIN; INSERT INTO t (k, body) SELECT k, body FROM t LIMIT 500; ROLLBACK; \
             INSERT INTO t (k, body) VALUES (1, x'00');",
        )
        .unwrap();
        let copy = crash_copy(&path, &dir.path().join("last.db"));
        assert_eq!(
            query_count_at(&copy, "SELECT count(*) FROM t"),
            expected + 1
        );
        assert_eq!(
            query_count_at(
                &copy,
                "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"
            ),
            0
        );
    }

    /// A transaction larger than the page cache spills frames before its commit and
    /// then rolls back; another connection then appends and commits over the same part
    /// of the log, and the first reads again. Nothing of the rolled-back transaction may
    /// surface in the log a crash leaves.
    #[test]
    fn a_rolled_back_spill_leaves_a_later_commit_intact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ppe.db");
        let mut a = connect(&path);
        let mut b = connect(&path);
        a.batch_execute("CREATE TABLE t (id INTEGER PRIMARY KEY, body BLOB);")
            .unwrap();
        // About 9 MB of new pages against a 4 MB cache: frames spill.
        a.batch_execute(
            "BEGIN; \
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) \
             INSERT INTO t (body) SELECT randomblob(3000) FROM n; \
             ROLLBACK;",
        )
        .unwrap();
        b.batch_execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000) \
             INSERT INTO t (body) SELECT zeroblob(3000) FROM n;",
        )
        .unwrap();
        // The first connection reads again (which would write anything it still held).
        a.batch_execute("SELECT count(*) FROM t; SELECT sum(length(body)) FROM t;")
            .unwrap();
        let copy = crash_copy(&path, &dir.path().join("copy.db"));
        assert_eq!(query_count_at(&copy, "SELECT count(*) FROM t"), 3000);
        assert_eq!(
            query_count_at(&copy, "SELECT count(*) FROM t WHERE body <> zeroblob(3000)"),
            0
        );
        assert_eq!(
            query_count_at(
                &copy,
                "SELECT count(*) FROM pragma_integrity_check WHERE integrity_check <> 'ok'"
            ),
            0
        );
    }

    #[test]
    fn only_a_frame_header_at_a_frame_boundary_starts_a_run() {
        let header = |commit: u32| {
            let mut h = vec![0u8; FRAME_HEADER];
            h[4..8].copy_from_slice(&commit.to_be_bytes());
            h
        };
        let page = Some(4096);
        assert_eq!(frame_header(&header(0), 32, page), Some(false));
        assert_eq!(frame_header(&header(9), 32 + 4120, page), Some(true));
        assert_eq!(
            frame_header(&header(9), 32 + 4120 + 1000, page),
            None,
            "the tail of a frame split at a sync point"
        );
        assert_eq!(
            frame_header(&header(9), 32, None),
            None,
            "page size unknown"
        );
        assert_eq!(
            frame_header(&[0u8; 32], 0, page),
            None,
            "the log's own header"
        );
        assert_eq!(frame_header(&[0u8; 4096], 56, page), None, "a page");
        let mut log_header = [0u8; LOG_HEADER];
        log_header[8..12].copy_from_slice(&1024u32.to_be_bytes());
        assert_eq!(page_size_of(&log_header), Some(1024));
        assert_eq!(page_size_of(&[0u8; LOG_HEADER]), None);
    }
}
