ALTER TABLE movements DROP COLUMN token_name;
ALTER TABLE movements DROP COLUMN token_id;
DROP TABLE token_sites;
DROP TABLE api_tokens;
