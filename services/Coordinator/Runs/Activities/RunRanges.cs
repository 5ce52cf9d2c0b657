using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// The bookkeeping of a run's load in key ranges (sync_run_ranges, issue 19): per range, the first
/// extraction that completed it and its batches loaded. The run counts only those batches, and expects
/// their sum once every range is extracted; a range is finished (loaded_at) when all its batches are in.
/// </summary>
internal static class RunRanges
{
    /// <summary>Takes <paramref name="completed"/> as its range's extraction unless the range has one; adds its batches loaded so far to the run.</summary>
    public static async Task AcceptAsync(CoordinatorDbContext dbContext, SyncRunState run, ExtractionCompleted completed, int index, CancellationToken cancellationToken)
    {
        var taken = await dbContext.Database.ExecuteSqlAsync(
            $"""
            UPDATE sync_run_ranges
            SET extraction_id = {completed.ExtractionId}, batch_count = {completed.BatchCount}, row_count = {completed.RowCount}, extracted_at = now()
            WHERE run_id = {run.CorrelationId} AND range_index = {index} AND extraction_id IS NULL
            """,
            cancellationToken);
        if (taken == 0)
        {
            return;
        }

        // Batches of this extraction loaded before it completed count now.
        var loaded = await dbContext.RunBatches.AsNoTracking()
            .Where(b => b.RunId == run.CorrelationId && b.ExtractionId == completed.ExtractionId)
            .ToListAsync(cancellationToken);
        foreach (var batch in loaded)
        {
            RunProgress.Add(run, new BatchLoaded(batch.RunId, run.JobName, batch.ExtractionId, batch.BatchSeq, batch.Rows, batch.Inserted, batch.Updated, batch.Skipped, batch.Failed, Deleted: batch.Deleted));
        }

        await dbContext.Database.ExecuteSqlAsync(
            $"""
            UPDATE sync_run_ranges SET loaded_batches = {loaded.Count}, loaded_at = CASE WHEN {loaded.Count} >= batch_count THEN now() END
            WHERE run_id = {run.CorrelationId} AND range_index = {index}
            """,
            cancellationToken);
        run.RangesExtracted++;
        run.ExtractedRows += completed.RowCount;
        if (run.RangesExtracted >= run.RangeCount)
        {
            run.ExpectedBatches = await dbContext.Database
                .SqlQuery<int>($"SELECT coalesce(sum(batch_count), 0)::int AS \"Value\" FROM sync_run_ranges WHERE run_id = {run.CorrelationId}")
                .SingleAsync(cancellationToken);
        }

        RunProgress.Touch(run);
    }

    /// <summary>Counts a batch seen for the first time when it belongs to its range's taken extraction; whether it did.</summary>
    public static async Task<bool> CountBatchAsync(CoordinatorDbContext dbContext, BatchLoaded batch, CancellationToken cancellationToken) =>
        await dbContext.Database.ExecuteSqlAsync(
            $"""
            UPDATE sync_run_ranges
            SET loaded_batches = loaded_batches + 1, loaded_at = CASE WHEN loaded_batches + 1 >= batch_count THEN now() END
            WHERE run_id = {batch.RunId} AND extraction_id = {batch.ExtractionId}
            """,
            cancellationToken) == 1;

    /// <summary>The extractions a ranged run took, one per extracted range.</summary>
    public static Task<List<Guid>> ExtractionsAsync(CoordinatorDbContext dbContext, Guid runId, CancellationToken cancellationToken) =>
        dbContext.Database
            .SqlQuery<Guid>($"SELECT extraction_id AS \"Value\" FROM sync_run_ranges WHERE run_id = {runId} AND extraction_id IS NOT NULL")
            .ToListAsync(cancellationToken);
}
