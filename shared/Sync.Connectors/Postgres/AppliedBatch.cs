using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace Sync.Connectors.Postgres;

/// <summary>
/// The Loader's inbox in the destination database: one row per applied (run, batch), written in
/// the transaction that applies the batch (OUTBOX.md, "The Loader's special case").
/// </summary>
internal static class AppliedBatch
{
    public static async Task EnsureTableAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
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
            COMMIT;
            """,
            connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static bool IsDuplicate(PostgresException exception) =>
        exception.SqlState == PostgresErrorCodes.UniqueViolation && exception.TableName == "applied_batches";

    public static async Task<LoadResult?> FindAsync(NpgsqlConnection connection, Guid runId, Guid extractionId, int batchSeq, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT rows, inserted, updated, skipped, rejected::text FROM sync.applied_batches WHERE run_id = $1 AND extraction_id = $2 AND batch_seq = $3",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = extractionId });
        command.Parameters.Add(new NpgsqlParameter { Value = batchSeq });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var rejected = JsonSerializer.Deserialize<List<RowRejection>>(reader.GetString(4)) ?? [];
        return new LoadResult(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), Replayed: false, rejected);
    }

    public static async Task RecordAsync(NpgsqlConnection connection, string jobName, Guid runId, Guid extractionId, int batchSeq, LoadResult result, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "INSERT INTO sync.applied_batches (run_id, extraction_id, batch_seq, job_name, rows, inserted, updated, skipped, rejected) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        command.Parameters.Add(new NpgsqlParameter { Value = extractionId });
        command.Parameters.Add(new NpgsqlParameter { Value = batchSeq });
        command.Parameters.Add(new NpgsqlParameter { Value = jobName });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Rows });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Inserted });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Updated });
        command.Parameters.Add(new NpgsqlParameter { Value = result.Skipped });
        command.Parameters.Add(new NpgsqlParameter { Value = JsonSerializer.Serialize(result.Rejected), NpgsqlDbType = NpgsqlDbType.Jsonb });
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
