CREATE TABLE sync_runs (
    correlation_id uuid PRIMARY KEY,
    current_state text NOT NULL,
    job_name text NOT NULL,
    trigger text NOT NULL,
    start_cursor jsonb,
    extraction_id uuid,
    expected_batches integer,
    loaded_batches integer NOT NULL DEFAULT 0,
    extracted_rows bigint NOT NULL DEFAULT 0,
    high_cursor jsonb,
    processed bigint NOT NULL DEFAULT 0,
    inserted bigint NOT NULL DEFAULT 0,
    updated bigint NOT NULL DEFAULT 0,
    skipped bigint NOT NULL DEFAULT 0,
    errors bigint NOT NULL DEFAULT 0,
    failure_reason text,
    requested_at timestamptz NOT NULL,
    started_at timestamptz NOT NULL,
    finished_at timestamptz,
    updated_at timestamptz NOT NULL
);

-- At most one active run per job: a second start is refused by this index if two race.
CREATE UNIQUE INDEX sync_runs_one_active ON sync_runs (job_name) WHERE current_state IN ('Extracting', 'Loading');
CREATE INDEX sync_runs_job_started ON sync_runs (job_name, started_at DESC);

CREATE TABLE sync_run_batches (
    run_id uuid NOT NULL,
    extraction_id uuid NOT NULL,
    batch_seq integer NOT NULL,
    rows integer NOT NULL,
    inserted integer NOT NULL,
    updated integer NOT NULL,
    skipped integer NOT NULL,
    failed integer NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, extraction_id, batch_seq)
);

CREATE TABLE sync_watermarks (
    key text PRIMARY KEY,
    last_sync timestamptz,
    cursor jsonb NOT NULL,
    metadata jsonb NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL
);
CREATE INDEX sync_watermarks_last_sync ON sync_watermarks (last_sync);

CREATE TABLE sync_metrics (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_name text NOT NULL,
    run_id uuid NOT NULL UNIQUE,
    started_at timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    processed bigint NOT NULL,
    inserted bigint NOT NULL,
    updated bigint NOT NULL,
    skipped bigint NOT NULL,
    errors bigint NOT NULL,
    duration_ms bigint NOT NULL
);
CREATE INDEX sync_metrics_job_started ON sync_metrics (job_name, started_at DESC);
