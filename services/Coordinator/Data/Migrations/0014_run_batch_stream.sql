-- The stream (JOB.STREAM) a batch of a cdc streams job loaded, so a run's counts show per stream
-- (issue 18); null for a job of one table.
ALTER TABLE sync_run_batches ADD COLUMN stream text;
