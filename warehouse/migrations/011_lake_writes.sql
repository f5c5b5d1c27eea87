-- Migration 011 (issue 23): one row that every write transaction on a DuckLake warehouse updates first. DuckLake
-- lets two transactions append to one table without a conflict, so two writers could each find an article new and
-- both insert it; two updates of one row do conflict, so of two overlapping writes one commits and the other is
-- retried from the start (warehouse/connection.py, `transaction`), and then sees the first one's rows.
-- On a DuckDB file, which has one writer at a time, the row is kept but never updated.
CREATE TABLE IF NOT EXISTS lake_writes (
    id INTEGER PRIMARY KEY,        -- always 1
    writes BIGINT NOT NULL,        -- write transactions committed
    last_write TIMESTAMPTZ         -- when the last one began
);
INSERT INTO lake_writes SELECT 1, 0, NULL WHERE NOT EXISTS (SELECT 1 FROM lake_writes);
