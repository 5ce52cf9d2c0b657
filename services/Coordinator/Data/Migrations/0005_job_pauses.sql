-- A paused job's schedule starts no runs; a row here is the pause, its removal the resume.
CREATE TABLE sync_job_pauses (
    job_name text PRIMARY KEY,
    paused_at timestamptz NOT NULL DEFAULT now()
);
