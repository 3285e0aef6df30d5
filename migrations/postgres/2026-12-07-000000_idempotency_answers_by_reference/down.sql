-- Keys whose answer is kept by reference have no body to go back to: they are dropped,
-- and a retry with one of them writes again.
DELETE FROM idempotency_keys WHERE response IS NULL;
ALTER TABLE idempotency_keys
    DROP CONSTRAINT idempotency_keys_one_answer,
    DROP COLUMN movement_ids,
    ALTER COLUMN response SET NOT NULL;
