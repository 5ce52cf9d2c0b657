-- Each run takes the next fence; destinations refuse batches of runs older than one they have seen
-- (a batch of a finished run arriving late must not overwrite a newer run's rows).
CREATE SEQUENCE sync_run_fence;
ALTER TABLE sync_runs ADD COLUMN fence bigint NOT NULL DEFAULT 0;
