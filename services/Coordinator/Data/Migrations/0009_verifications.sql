-- Each verification of a job (issue 15): what it compared up to, what it found, and a sample of the keys.
CREATE TABLE sync_verifications (
    id uuid PRIMARY KEY,
    job_name text NOT NULL,
    verified_at timestamptz NOT NULL DEFAULT now(),
    outcome text NOT NULL,
    reason text,
    watermark text,
    source_rows bigint NOT NULL,
    destination_rows bigint NOT NULL,
    missing integer NOT NULL,
    extra integer NOT NULL,
    different integer NOT NULL,
    duplicated integer NOT NULL,
    duration_ms bigint NOT NULL,
    mismatches jsonb NOT NULL,
    repair_run_id uuid
);
CREATE INDEX sync_verifications_job ON sync_verifications (job_name, verified_at DESC);
