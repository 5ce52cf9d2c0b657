-- The Loader's inbox (sync.applied_batches: a batch applied once, with its counts and refused rows)
-- and the run fences (sync.job_fences: the newest run loaded per job). IF NOT EXISTS throughout: a
-- file whose bookkeeping the ensure-on-first-use code of earlier Sync versions made has these
-- already, and this version adopts them with their rows.
CREATE SCHEMA IF NOT EXISTS sync;
CREATE TABLE IF NOT EXISTS sync.applied_batches (
    job VARCHAR NOT NULL, run_id UUID NOT NULL, extraction_id UUID NOT NULL, batch_seq INTEGER NOT NULL,
    rows INTEGER NOT NULL, inserted INTEGER NOT NULL, updated INTEGER NOT NULL, skipped INTEGER NOT NULL,
    rejected VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (job, run_id, extraction_id, batch_seq));
CREATE TABLE IF NOT EXISTS sync.job_fences (job VARCHAR PRIMARY KEY, fence BIGINT NOT NULL);
