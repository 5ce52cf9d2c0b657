-- The replication slots and publications Sync made for cdc jobs, and on which connection, so that
-- the Coordinator can drop them once a job's file is gone (it no longer knows the source then).
-- Only slots recorded here are ever dropped; a row goes when its slot is dropped.
CREATE TABLE sync_cdc_slots (
    job text NOT NULL,
    connection text NOT NULL,
    slot text NOT NULL,
    publication text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job, connection)
);
