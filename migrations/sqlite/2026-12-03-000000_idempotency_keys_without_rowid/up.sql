-- Keys are looked up and inserted by their text alone: stored in the primary-key b-tree
-- itself (WITHOUT ROWID), each key is one b-tree insert instead of two (the table's and
-- its primary-key index's), on the write path of every keyed request.
CREATE TABLE idempotency_keys_by_key (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
) WITHOUT ROWID;
INSERT INTO idempotency_keys_by_key (key, request_hash, status, response, created_at)
    SELECT key, request_hash, status, response, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_by_key RENAME TO idempotency_keys;
