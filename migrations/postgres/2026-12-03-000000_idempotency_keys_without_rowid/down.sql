-- SQLite only (its keys table moves into its primary-key b-tree); PostgreSQL's table is
-- already a heap with one index. Kept so both backends have the same migration versions.
SELECT 1;
