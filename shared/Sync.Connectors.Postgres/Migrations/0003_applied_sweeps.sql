-- One row per swept full refresh run (PostgresDeleteSweep), so a redelivered sweep reports its first
-- count and touches nothing. Earlier versions made it beside the first keys table of a destination.
-- The keys tables themselves (sync.refresh_keys_<hash>) are per job and typed like the job's key
-- columns, so RefreshKeys makes them on demand; a change to their fixed part (fence, the primary key)
-- needs a migration here that alters every existing one in place: one may hold a running refresh's marks.
CREATE TABLE IF NOT EXISTS sync.applied_sweeps (
    run_id uuid PRIMARY KEY,
    job_name text NOT NULL,
    fence bigint NOT NULL,
    deleted bigint NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now());
