using System.Globalization;
using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.DeadLetters;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// Every batch is loaded: commits the watermark, the metrics row and the run's end in the saga's
/// transaction. The watermark moves only from the position this run started at, so a run can
/// never move it back or over another's.
/// </summary>
internal sealed class CompleteRunActivity(CoordinatorDbContext dbContext, JobCatalog jobs, ILogger<CompleteRunActivity> logger) : RunActivity("complete-run")
{
    protected override async Task ExecuteAsync(BehaviorContext<SyncRunState> context)
    {
        var run = context.Saga;
        run.FinishedAt = DateTimeOffset.UtcNow;
        // A run of a job whose file was removed (it began before the Coordinator restarted) commits no
        // watermark: the removal dropped it with the job's cdc slot, and a job added again starts afresh.
        // A cdc run also needs its slot record, held until this transaction ends, so that a removal
        // running at the same moment (another replica, the API) cannot be undone by this commit.
        // A backfill re-reads a slice behind the watermark and leaves it where it is (issue 18).
        if (run.HighCursor is not null && run.Trigger != BeginRunActivity.BackfillTrigger && jobs.Find(run.JobName) is { } defined
            && await CdcSlotCleanup.HoldRecordAsync(dbContext, defined, context.CancellationToken))
        {
            var high = JsonSerializer.Deserialize<CursorPosition>(run.HighCursor)!;
            var metadata = JsonSerializer.Serialize(new { run_id = run.CorrelationId, rows = run.ExtractedRows, committed_at = run.FinishedAt, origin = WatermarkOrigin.Of(defined) });
            var moved = await dbContext.Database.ExecuteSqlAsync(
                $"""
                INSERT INTO sync_watermarks AS w (key, last_sync, cursor, metadata, updated_at)
                VALUES ({run.JobName}, {LastSync(high)}, {run.HighCursor}::jsonb, {metadata}::jsonb, now())
                ON CONFLICT (key) DO UPDATE
                SET last_sync = EXCLUDED.last_sync, cursor = EXCLUDED.cursor, metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at
                WHERE w.cursor IS NOT DISTINCT FROM {run.StartCursor}::jsonb
                """,
                context.CancellationToken);
            if (moved == 0)
            {
                throw new InvalidOperationException($"The watermark of job {run.JobName} moved during run {run.CorrelationId}; it is left as it is.");
            }
        }

        await DeadLetterStore.FinishReplayAsync(dbContext, run.CorrelationId, context.CancellationToken);
        await RunMetrics.RecordAsync(dbContext, run, context.CancellationToken);
        RunTelemetry.Finished(logger, run, RunStates.Completed);
        await context.Publish(new SyncRunCompleted(
            run.CorrelationId, run.JobName, run.Processed, run.Inserted, run.Updated, run.Skipped, run.Errors,
            RunMetrics.DurationMs(run), run.Deleted), context.CancellationToken);
        // An S3 destination gets its run manifest once every batch is in: only this saga knows that moment
        // and which extraction's batches count. The Loader writes it (it has the S3 connection).
        if (jobs.Find(run.JobName) is { Destination.Kind: DestinationKind.S3 } job && run is { ExtractionId: { } extraction, ExpectedBatches: { } batches })
        {
            await context.Publish(new WriteRunManifest(run.CorrelationId, run.JobName, extraction, batches, job), context.CancellationToken);
        }
    }

    // last_sync is the cursor value itself when the cursor is a timestamp (see PgValueText).
    private static DateTimeOffset? LastSync(CursorPosition high) =>
        DateTimeOffset.TryParseExact(high.Values[0], "yyyy-MM-dd'T'HH:mm:ss.ffffffzzz", CultureInfo.InvariantCulture, DateTimeStyles.None, out var value)
            ? value
            : null;
}
