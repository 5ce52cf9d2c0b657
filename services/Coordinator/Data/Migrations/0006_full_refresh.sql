-- Full refresh with delete detection: a run that sweeps deleted rows is Sweeping after Loading (still
-- active: at most one run per job), and counts the rows it deleted or soft-deleted.
ALTER TABLE sync_runs ADD COLUMN sweeps_deletes boolean NOT NULL DEFAULT false;
ALTER TABLE sync_runs ADD COLUMN deleted bigint NOT NULL DEFAULT 0;
ALTER TABLE sync_metrics ADD COLUMN deleted bigint NOT NULL DEFAULT 0;
DROP INDEX sync_runs_one_active;
CREATE UNIQUE INDEX sync_runs_one_active ON sync_runs (job_name) WHERE current_state IN ('Extracting', 'Loading', 'Sweeping');
