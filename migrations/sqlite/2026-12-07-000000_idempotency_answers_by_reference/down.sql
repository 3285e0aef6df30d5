-- Keys whose answer is kept by reference have no body to go back to: they are dropped,
-- and a retry with one of them writes again.
CREATE TABLE idempotency_keys_with_body (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
) WITHOUT ROWID;
INSERT INTO idempotency_keys_with_body (key, request_hash, status, response, created_at)
    SELECT key, request_hash, status, response, created_at FROM idempotency_keys
    WHERE response IS NOT NULL;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_with_body RENAME TO idempotency_keys;
