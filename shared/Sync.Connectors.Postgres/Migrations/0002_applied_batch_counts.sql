-- The columns applied_batches gained after its first layout. The ensure code of earlier versions
-- skipped its DDL when rejected and loaded_by were there, so a destination made between the two
-- additions never got deleted and every load into it failed (issue 17); IF NOT EXISTS brings each
-- older layout up.
-- The rows the destination refused, so a redelivered batch reports the same rejections.
ALTER TABLE sync.applied_batches ADD COLUMN IF NOT EXISTS rejected jsonb NOT NULL DEFAULT '[]';
-- Which Loader instance applied the batch (LoaderOptions.InstanceName), so scaled-out Loaders can be told apart.
ALTER TABLE sync.applied_batches ADD COLUMN IF NOT EXISTS loaded_by text;
-- Rows a change batch's deletes removed or soft-deleted, counted apart from updates and skips.
ALTER TABLE sync.applied_batches ADD COLUMN IF NOT EXISTS deleted integer NOT NULL DEFAULT 0;
