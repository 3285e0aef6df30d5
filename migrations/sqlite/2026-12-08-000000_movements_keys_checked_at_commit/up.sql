-- The ledger's references to sites, items and transfers are checked at COMMIT instead of
-- row by row. A multi-row INSERT that a constraint could abort halfway makes SQLite copy
-- every page it touches into a statement journal first, and an immediate foreign key is
-- such a constraint; a deferred one is not. A violation still fails the COMMIT and
-- leaves nothing written (sites, items and transfers are never deleted, and the writer
-- takes their ids from the catalogue, so none is expected). SQLite cannot alter a
-- constraint in place: the table is rebuilt, rows and ids unchanged.
CREATE TABLE movements_checked_at_commit (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id) DEFERRABLE INITIALLY DEFERRED,
    item_id BIGINT NOT NULL REFERENCES items (id) DEFERRABLE INITIALLY DEFERRED,
    lot TEXT NOT NULL,
    expires_on DATE,
    quantity BIGINT NOT NULL,
    counted BIGINT,
    reason TEXT,
    transfer_id BIGINT REFERENCES transfers (id) DEFERRABLE INITIALLY DEFERRED,
    reported_by TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    token_id BIGINT,
    token_name TEXT
);
INSERT INTO movements_checked_at_commit
    SELECT id, kind, site_id, item_id, lot, expires_on, quantity, counted, reason,
           transfer_id, reported_by, occurred_at, recorded_at, token_id, token_name
    FROM movements;
DROP TABLE movements;
ALTER TABLE movements_checked_at_commit RENAME TO movements;
CREATE INDEX movements_site_item ON movements (site_id, item_id, id);
CREATE INDEX movements_item ON movements (item_id, id);
CREATE INDEX movements_occurred ON movements (occurred_at);
