-- A cdc run's deletes are counted apart from its updates and skips: each loaded batch keeps the rows
-- its deletes removed or soft-deleted, and the run's deleted count (sync_runs, sync_metrics, added in
-- 0006 for full refresh sweeps) sums them.
ALTER TABLE sync_run_batches ADD COLUMN deleted integer NOT NULL DEFAULT 0;
