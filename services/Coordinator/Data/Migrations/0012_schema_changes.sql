-- What loading a batch did to the destination table's shape (created, columns added or widened,
-- values or rows discarded under destination.schema), kept with the batch and shown with the run.
ALTER TABLE sync_run_batches ADD COLUMN schema_changes text[];
