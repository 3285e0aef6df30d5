CREATE TABLE items (
    id BIGSERIAL PRIMARY KEY,
    sku TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    base_unit TEXT NOT NULL,
    pack_size BIGINT NOT NULL CHECK (pack_size > 0),
    gtin TEXT UNIQUE,
    standard TEXT,
    shelf_life_days INTEGER,
    volume_cm3 DOUBLE PRECISION,
    weight_g DOUBLE PRECISION,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE sites (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    unit_type TEXT,
    district TEXT,
    latitude DOUBLE PRECISION NOT NULL,
    longitude DOUBLE PRECISION NOT NULL,
    address TEXT,
    opening_hours TEXT NOT NULL,
    priority_tier INTEGER NOT NULL,
    lead_time_days INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE transfers (
    id BIGSERIAL PRIMARY KEY,
    from_site_id BIGINT NOT NULL REFERENCES sites (id),
    to_site_id BIGINT NOT NULL REFERENCES sites (id),
    status TEXT NOT NULL,
    dispatched_at TIMESTAMP NOT NULL,
    dispatched_by TEXT NOT NULL,
    received_at TIMESTAMP,
    received_by TEXT
);
CREATE INDEX transfers_to_site ON transfers (to_site_id, status);

CREATE TABLE transfer_lines (
    transfer_id BIGINT NOT NULL REFERENCES transfers (id),
    line_no INTEGER NOT NULL,
    item_id BIGINT NOT NULL REFERENCES items (id),
    lot TEXT NOT NULL,
    expires_on DATE,
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (transfer_id, line_no)
);

CREATE TABLE movements (
    id BIGSERIAL PRIMARY KEY,
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
    recorded_at TIMESTAMP NOT NULL
);
CREATE INDEX movements_site_item ON movements (site_id, item_id, id);
CREATE INDEX movements_item ON movements (item_id, id);
CREATE INDEX movements_occurred ON movements (occurred_at);

CREATE TABLE balances (
    site_id BIGINT NOT NULL REFERENCES sites (id),
    item_id BIGINT NOT NULL REFERENCES items (id),
    lot TEXT NOT NULL,
    expires_on DATE,
    quantity BIGINT NOT NULL CHECK (quantity >= 0),
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (site_id, item_id, lot)
);
CREATE INDEX balances_item ON balances (item_id);

CREATE TABLE idempotency_keys (
    key TEXT PRIMARY KEY,
    request_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    response TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
