-- A ledger write's answer is nothing but the movements it recorded, and movements never
-- change: such a key keeps the movements' ids and a replay reads them back, instead of
-- a copy of the answer several times the size of the rest of the row. Other answers
-- (a transfer's, whose status moves on) keep their body. Exactly one of the two is set.
CREATE TABLE idempotency_keys_by_reference (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT,
    movement_ids TEXT,
    created_at TIMESTAMP NOT NULL,
    CHECK ((response IS NULL) <> (movement_ids IS NULL))
) WITHOUT ROWID;
INSERT INTO idempotency_keys_by_reference (key, request_hash, status, response, created_at)
    SELECT key, request_hash, status, response, created_at FROM idempotency_keys;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_by_reference RENAME TO idempotency_keys;
