CREATE TABLE idempotency_keys_with_rowid (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO idempotency_keys_with_rowid (key, request_hash, status, response, created_at)
    SELECT key, request_hash, status, response, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_with_rowid RENAME TO idempotency_keys;
