-- A ledger write's answer is nothing but the movements it recorded, and movements never
-- change: such a key keeps the movements' ids and a replay reads them back, instead of
-- a copy of the answer several times the size of the rest of the row. Other answers
-- (a transfer's, whose status moves on) keep their body. Exactly one of the two is set.
ALTER TABLE idempotency_keys
    ALTER COLUMN response DROP NOT NULL,
    ADD COLUMN movement_ids TEXT,
    ADD CONSTRAINT idempotency_keys_one_answer
        CHECK ((response IS NULL) <> (movement_ids IS NULL));
