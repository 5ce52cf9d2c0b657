using System.Text.Json;
using DuckDB.NET.Data;

namespace Sync.Connectors.DuckDb;

/// <summary>
/// The Loader's inbox and run fences inside a DuckDB destination, schema <c>sync</c>: <c>applied_batches</c>
/// (a batch applied once, with its counts and refused rows) and <c>job_fences</c> (the newest run loaded per job),
/// made by <see cref="DuckDbMigrator"/>.
/// </summary>
internal static class DuckDbBookkeeping
{
    /// <summary>True when a later run of the job has loaded here; otherwise records this run's fence as the newest.</summary>
    public static async Task<bool> IsSupersededAsync(DuckDBConnection connection, string job, long fence, CancellationToken cancellationToken)
    {
        var newest = await DuckDbDestination.ScalarAsync(connection, "SELECT coalesce(max(fence), 0) FROM sync.job_fences WHERE job = $1", cancellationToken, job);
        if (newest > fence)
        {
            return true;
        }

        if (fence > newest)
        {
            await DuckDbDestination.ExecuteAsync(
                connection,
                "INSERT INTO sync.job_fences (job, fence) VALUES ($1, $2) ON CONFLICT (job) DO UPDATE SET fence = EXCLUDED.fence",
                cancellationToken,
                job,
                fence);
        }

        return false;
    }

    public static async Task<LoadResult?> FindAsync(DuckDBConnection connection, string job, Guid runId, Guid extractionId, int batchSeq, CancellationToken cancellationToken)
    {
        await using var command = DuckDbDestination.Command(
            connection,
            "SELECT rows, inserted, updated, skipped, rejected FROM sync.applied_batches WHERE job = $1 AND run_id = $2 AND extraction_id = $3 AND batch_seq = $4",
            [job, runId, extractionId, batchSeq]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        var rejected = JsonSerializer.Deserialize<List<RowRejection>>(reader.GetString(4)) ?? [];
        return new LoadResult(reader.GetInt32(0), reader.GetInt32(1), reader.GetInt32(2), reader.GetInt32(3), Replayed: true, rejected);
    }

    public static Task<int> RecordAsync(DuckDBConnection connection, string job, Guid runId, Guid extractionId, int batchSeq, LoadResult result, CancellationToken cancellationToken) =>
        DuckDbDestination.ExecuteAsync(
            connection,
            "INSERT INTO sync.applied_batches (job, run_id, extraction_id, batch_seq, rows, inserted, updated, skipped, rejected) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            cancellationToken,
            job,
            runId,
            extractionId,
            batchSeq,
            result.Rows,
            result.Inserted,
            result.Updated,
            result.Skipped,
            DuckDbDestination.RejectedJson(result.Rejected));
}
