-- API tokens: only the SHA-256 of a secret is stored; the secret is shown once.
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    secret_sha256 TEXT NOT NULL UNIQUE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    last_used_at TIMESTAMP
);

-- The sites a token is limited to; none means every site.
CREATE TABLE token_sites (
    token_id BIGINT NOT NULL REFERENCES api_tokens (id),
    site_id BIGINT NOT NULL REFERENCES sites (id),
    PRIMARY KEY (token_id, site_id)
);

-- Who recorded a movement, dispatched or received a transfer. No foreign key: tokens are revoked, never deleted, and the
-- name is kept as it was when the movement was written.
ALTER TABLE movements ADD COLUMN token_id BIGINT;
ALTER TABLE movements ADD COLUMN token_name TEXT;
ALTER TABLE transfers ADD COLUMN dispatched_token_id BIGINT;
ALTER TABLE transfers ADD COLUMN dispatched_token_name TEXT;
ALTER TABLE transfers ADD COLUMN received_token_id BIGINT;
ALTER TABLE transfers ADD COLUMN received_token_name TEXT;
