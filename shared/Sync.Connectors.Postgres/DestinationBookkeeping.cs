using Npgsql;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Sync's own tables in a PostgreSQL destination, schema <c>sync</c>: <c>applied_batches</c> (the
/// Loader's inbox, <see cref="AppliedBatch"/>) and <c>job_fences</c> (<see cref="RunFence"/>).
/// Created on first use, in one statement batch, when missing.
/// </summary>
internal static class DestinationBookkeeping
{
    public static async Task EnsureAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        // ALTER TABLE takes an exclusive lock even when the column exists: behind a batch still being
        // applied by another Loader connection it would wait, and every batch after it behind it. So
        // the DDL runs only when something is missing (a new destination or an older layout).
        await using (var check = new NpgsqlCommand(
            """
            SELECT to_regclass('sync.job_fences') IS NOT NULL
               AND (SELECT count(*) FROM pg_attribute
                    WHERE attrelid = to_regclass('sync.applied_batches') AND attname IN ('rejected', 'loaded_by') AND NOT attisdropped) = 2
            """,
            connection))
        {
            if (await check.ExecuteScalarAsync(cancellationToken) is true)
            {
                return;
            }
        }

        // Concurrent CREATE … IF NOT EXISTS can still collide in the catalog; the lock serialises it.
        await using var command = new NpgsqlCommand(
            """
            BEGIN;
            SELECT pg_advisory_xact_lock(7320512);
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
            -- The rows the destination refused, so a redelivered batch reports the same rejections.
            ALTER TABLE sync.applied_batches ADD COLUMN IF NOT EXISTS rejected jsonb NOT NULL DEFAULT '[]';
            -- Which Loader instance applied the batch (LoaderOptions.InstanceName), so scaled-out Loaders can be told apart.
            ALTER TABLE sync.applied_batches ADD COLUMN IF NOT EXISTS loaded_by text;
            -- Rows a change batch's deletes removed or soft-deleted, counted apart from updates and skips.
            ALTER TABLE sync.applied_batches ADD COLUMN IF NOT EXISTS deleted integer NOT NULL DEFAULT 0;
            CREATE TABLE IF NOT EXISTS sync.job_fences (
                job_name text PRIMARY KEY,
                fence bigint NOT NULL,
                raised_at timestamptz NOT NULL DEFAULT now());
            COMMIT;
            """,
            connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
