-- Nothing to change here: the SQLite migration of this name defers the ledger's foreign
-- keys to spare SQLite's statement journal, which PostgreSQL does not have. The name is
-- kept so that both backends list the same versions.
SELECT 1;
