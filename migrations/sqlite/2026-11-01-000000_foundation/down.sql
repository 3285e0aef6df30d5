DROP TABLE idempotency_keys;
DROP TABLE balances;
DROP TABLE movements;
DROP TABLE transfer_lines;
DROP TABLE transfers;
DROP TABLE sites;
DROP TABLE items;
