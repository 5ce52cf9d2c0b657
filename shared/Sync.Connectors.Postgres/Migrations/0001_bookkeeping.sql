-- The Loader's inbox (sync.applied_batches: a batch applied once, with its counts) and the run
-- fences (sync.job_fences: the newest run loaded per job). IF NOT EXISTS throughout: a destination
-- whose bookkeeping the ensure-on-first-use code of earlier Sync versions made has these already,
-- and this version adopts them with their rows. Later columns come in 0002.
CREATE SCHEMA IF NOT EXISTS sync;
CREATE TABLE IF NOT EXISTS sync.applied_batches (
    run_id uuid NOT NULL,
    extraction_id uuid NOT NULL,
    batch_seq integer NOT NULL,
    job_name text NOT NULL,
    rows integer NOT NULL,
    inserted integer NOT NULL,
    updated integer NOT NULL,
    skipped integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, extraction_id, batch_seq));
CREATE INDEX IF NOT EXISTS applied_batches_applied_at ON sync.applied_batches (applied_at);
CREATE TABLE IF NOT EXISTS sync.job_fences (
    job_name text PRIMARY KEY,
    fence bigint NOT NULL,
    raised_at timestamptz NOT NULL DEFAULT now());
