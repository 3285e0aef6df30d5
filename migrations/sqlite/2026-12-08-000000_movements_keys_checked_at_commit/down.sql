CREATE TABLE movements_checked_per_row (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    item_id BIGINT NOT NULL REFERENCES items (id),
    lot TEXT NOT NULL,
    expires_on DATE,
    quantity BIGINT NOT NULL,
    counted BIGINT,
    reason TEXT,
    transfer_id BIGINT REFERENCES transfers (id),
    reported_by TEXT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    recorded_at TIMESTAMP NOT NULL,
    token_id BIGINT,
    token_name TEXT
);
INSERT INTO movements_checked_per_row
    SELECT id, kind, site_id, item_id, lot, expires_on, quantity, counted, reason,
           transfer_id, reported_by, occurred_at, recorded_at, token_id, token_name
    FROM movements;
DROP TABLE movements;
ALTER TABLE movements_checked_per_row RENAME TO movements;
CREATE INDEX movements_site_item ON movements (site_id, item_id, id);
CREATE INDEX movements_item ON movements (item_id, id);
CREATE INDEX movements_occurred ON movements (occurred_at);
