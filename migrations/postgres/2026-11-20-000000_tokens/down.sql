ALTER TABLE transfers DROP COLUMN received_token_name;
ALTER TABLE transfers DROP COLUMN received_token_id;
ALTER TABLE transfers DROP COLUMN dispatched_token_name;
ALTER TABLE transfers DROP COLUMN dispatched_token_id;
ALTER TABLE movements DROP COLUMN token_name;
ALTER TABLE movements DROP COLUMN token_id;
DROP TABLE token_sites;
DROP TABLE api_tokens;
