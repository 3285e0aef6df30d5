//! The savepoint each write of a group commit runs in, so a refused write is undone
//! without undoing the others. One name is reused: the next write's `SAVEPOINT` follows
//! the release of the previous one, and the group's `COMMIT` releases the last. On
//! SQLite the statements are prepared once; on PostgreSQL the release and the next
//! savepoint travel in one round trip.

use crate::connection::DbConnection;
use crate::statements::Fixed;
use diesel::RunQueryDsl;
use diesel::connection::SimpleConnection;
use diesel::result::QueryResult;

const BEGIN: Fixed = Fixed("SAVEPOINT group_write");
const RELEASE: Fixed = Fixed("RELEASE SAVEPOINT group_write");
const ROLLBACK: Fixed = Fixed("ROLLBACK TO SAVEPOINT group_write");

/// The savepoints of one group's transaction.
#[derive(Default)]
pub(crate) struct Savepoints {
    open: bool,
    /// A savepoint statement failed: the transaction may hold a partial write, so the
    /// group must not commit.
    broken: bool,
}

impl Savepoints {
    pub(crate) fn broken(&self) -> bool {
        self.broken
    }

    /// Starts the savepoint of the next write, releasing the previous one.
    pub(crate) fn begin(&mut self, conn: &mut DbConnection) {
        let r = match (conn, self.open) {
            (DbConnection::Postgresql(pg), true) => {
                pg.batch_execute("RELEASE SAVEPOINT group_write; SAVEPOINT group_write")
            }
            (DbConnection::Postgresql(pg), false) => BEGIN.execute(pg).map(drop),
            (DbConnection::Sqlite(lite), true) => RELEASE
                .execute(lite)
                .and_then(|_| BEGIN.execute(lite))
                .map(drop),
            (DbConnection::Sqlite(lite), false) => BEGIN.execute(lite).map(drop),
        };
        self.settle(r);
        self.open = true;
    }

    /// Undoes the current write's statements; its savepoint stays open for a retry.
    pub(crate) fn rollback(&mut self, conn: &mut DbConnection) {
        let r = match conn {
            DbConnection::Postgresql(pg) => ROLLBACK.execute(pg),
            DbConnection::Sqlite(lite) => ROLLBACK.execute(lite),
        };
        self.settle(r.map(drop));
    }

    fn settle(&mut self, r: QueryResult<()>) {
        if let Err(e) = r {
            log::error!("savepoint of a group commit: {e}");
            self.broken = true;
        }
    }
}
