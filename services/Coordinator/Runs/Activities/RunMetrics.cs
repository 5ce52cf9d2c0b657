using Microsoft.EntityFrameworkCore;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>The one sync_metrics row of a finished run.</summary>
internal static class RunMetrics
{
    public static long DurationMs(SyncRunState run) =>
        (long)((run.FinishedAt ?? DateTimeOffset.UtcNow) - run.StartedAt).TotalMilliseconds;

    public static Task RecordAsync(CoordinatorDbContext dbContext, SyncRunState run, CancellationToken cancellationToken) =>
        dbContext.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO sync_metrics (job_name, run_id, started_at, finished_at, processed, inserted, updated, skipped, errors, duration_ms, deleted)
            VALUES ({run.JobName}, {run.CorrelationId}, {run.StartedAt}, {run.FinishedAt ?? DateTimeOffset.UtcNow}, {run.Processed}, {run.Inserted},
                    {run.Updated}, {run.Skipped}, {run.Errors}, {DurationMs(run)}, {run.Deleted})
            ON CONFLICT (run_id) DO NOTHING
            """,
            cancellationToken);
}
