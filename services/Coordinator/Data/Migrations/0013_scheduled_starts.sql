-- Several Coordinators on one control database (issue 19) each see the same cron occurrence due and
-- the same continuous job idle: the one whose row here commits first starts the run, the others
-- skip it. occurrence is the cron occurrence, or -infinity for a continuous job's latest start.
CREATE TABLE sync_scheduled_starts (
    job_name text NOT NULL,
    occurrence timestamptz NOT NULL,
    run_id uuid NOT NULL,
    claimed_at timestamptz NOT NULL,
    PRIMARY KEY (job_name, occurrence)
);
