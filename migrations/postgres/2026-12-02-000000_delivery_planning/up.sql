-- Delivery planning: the fleet, units' requests, stored delivery plans, proof of delivery
-- per line, deactivation of sites, vehicles and items, and an audit trail of catalogue edits.

ALTER TABLE sites ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE items ADD COLUMN active BOOLEAN NOT NULL DEFAULT TRUE;

CREATE TABLE vehicles (
    id BIGSERIAL PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    depot_site_id BIGINT NOT NULL REFERENCES sites (id),
    capacity_kg DOUBLE PRECISION NOT NULL,
    capacity_litres DOUBLE PRECISION NOT NULL,
    capacity_pallets INTEGER,
    shift_start TEXT NOT NULL,
    shift_end TEXT NOT NULL,
    max_driving_minutes INTEGER,
    cost_per_km DOUBLE PRECISION NOT NULL,
    cost_per_hour DOUBLE PRECISION NOT NULL,
    fixed_cost_per_day DOUBLE PRECISION NOT NULL,
    max_trips INTEGER NOT NULL,
    active BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- A unit asks for stock (FHIR SupplyRequest in spirit).
CREATE TABLE supply_requests (
    id BIGSERIAL PRIMARY KEY,
    site_id BIGINT NOT NULL REFERENCES sites (id),
    status TEXT NOT NULL,
    needed_by DATE,
    urgent BOOLEAN NOT NULL,
    reason TEXT,
    requested_by TEXT NOT NULL,
    token_id BIGINT,
    token_name TEXT,
    plan_id BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX supply_requests_status ON supply_requests (status, site_id);

CREATE TABLE supply_request_lines (
    request_id BIGINT NOT NULL REFERENCES supply_requests (id),
    line_no INTEGER NOT NULL,
    item_id BIGINT NOT NULL REFERENCES items (id),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (request_id, line_no)
);

-- A plan is one JSON document the service owns (allocation lines, routes, totals); the
-- columns are what lists filter on and what state transitions claim.
CREATE TABLE delivery_plans (
    id BIGSERIAL PRIMARY KEY,
    depot_site_id BIGINT NOT NULL REFERENCES sites (id),
    plan_date DATE NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    replaces_plan_id BIGINT REFERENCES delivery_plans (id),
    document TEXT NOT NULL,
    dispatch_answer TEXT,
    token_id BIGINT,
    token_name TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX delivery_plans_depot ON delivery_plans (depot_site_id, status);

ALTER TABLE transfers ADD COLUMN plan_id BIGINT;
ALTER TABLE transfers ADD COLUMN plan_stop INTEGER;
ALTER TABLE transfer_lines ADD COLUMN received BIGINT;
ALTER TABLE transfer_lines ADD COLUMN outcome TEXT;
ALTER TABLE transfer_lines ADD COLUMN disposition TEXT;
ALTER TABLE transfer_lines ADD COLUMN note TEXT;
CREATE INDEX transfers_plan ON transfers (plan_id);

-- Who changed what in the catalogue and the fleet, with the record before and after.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    entity TEXT NOT NULL,
    entity_key TEXT NOT NULL,
    action TEXT NOT NULL,
    before TEXT,
    after TEXT NOT NULL,
    token_id BIGINT,
    token_name TEXT,
    recorded_at TIMESTAMP NOT NULL
);
