-- A run's initial load or full refresh in key ranges (source.range_size, issue 19): one row per range,
-- how often an Extractor began reading it, the extraction the run took for it and its batches loaded.
CREATE TABLE sync_run_ranges (
    run_id uuid NOT NULL,
    range_index integer NOT NULL,
    key_from text,
    key_to text,
    reads integer NOT NULL DEFAULT 0,
    extraction_id uuid,
    batch_count integer,
    row_count bigint,
    loaded_batches integer NOT NULL DEFAULT 0,
    extracted_at timestamptz,
    loaded_at timestamptz,
    PRIMARY KEY (run_id, range_index)
);

CREATE INDEX sync_run_ranges_extraction ON sync_run_ranges (run_id, extraction_id);

ALTER TABLE sync_runs ADD COLUMN range_count integer, ADD COLUMN ranges_extracted integer NOT NULL DEFAULT 0;
