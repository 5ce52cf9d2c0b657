using Coravel.Invocable;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Runs;

/// <summary>
/// Forgets run history older than <see cref="CoordinatorOptions.RunHistoryRetention"/>: finished runs
/// (sync_runs) with their loaded batches (sync_run_batches), key ranges (sync_run_ranges) and metrics rows (sync_metrics), and
/// verifications (sync_verifications). A continuous cdc job alone adds thousands of runs a day. Each
/// job's latest run and latest verification are kept whatever their age (what `syncctl jobs` and the
/// dashboard show), and so is every active run. Watermarks, dead letters and pauses are not history
/// and stay. It runs hourly (at minute 17) and deletes in slices, so a first pass over a large backlog holds no long lock.
/// </summary>
internal sealed partial class RunHistoryPruning(CoordinatorDbContext dbContext, IOptions<CoordinatorOptions> options, TimeProvider time, ILogger<RunHistoryPruning> logger) : IInvocable
{
    private const int SliceSize = 5000;

    public async Task Invoke()
    {
        var retention = options.Value.RunHistoryRetention;
        if (retention <= TimeSpan.Zero)
        {
            return;
        }

        var (runs, verifications) = await PruneAsync(time.GetUtcNow() - retention, CancellationToken.None);
        if (runs + verifications > 0)
        {
            LogPruned(runs, verifications, retention.TotalDays);
        }
    }

    /// <summary>Deletes what finished before <paramref name="before"/>; returns the runs and verifications deleted.</summary>
    internal async Task<(long Runs, long Verifications)> PruneAsync(DateTimeOffset before, CancellationToken cancellationToken)
    {
        long runs = 0;
        while (true)
        {
            // One statement per slice: the batches and metrics of the runs it deletes go with them.
            var deleted = await dbContext.Database.ExecuteSqlAsync(
                $"""
                WITH old AS (
                    SELECT r.correlation_id FROM sync_runs r
                    WHERE r.finished_at < {before}
                      AND r.current_state NOT IN ({RunStates.Extracting}, {RunStates.Loading}, {RunStates.Sweeping})
                      AND r.correlation_id <> (SELECT l.correlation_id FROM sync_runs l WHERE l.job_name = r.job_name ORDER BY l.started_at DESC, l.correlation_id DESC LIMIT 1)
                    LIMIT {SliceSize}),
                batches AS (DELETE FROM sync_run_batches b USING old WHERE b.run_id = old.correlation_id),
                ranges AS (DELETE FROM sync_run_ranges r USING old WHERE r.run_id = old.correlation_id),
                metrics AS (DELETE FROM sync_metrics m USING old WHERE m.run_id = old.correlation_id)
                DELETE FROM sync_runs r USING old WHERE r.correlation_id = old.correlation_id
                """,
                cancellationToken);
            runs += deleted;
            if (deleted < SliceSize)
            {
                break;
            }
        }

        var verifications = await dbContext.Database.ExecuteSqlAsync(
            $"""
            DELETE FROM sync_verifications v
            WHERE v.verified_at < {before}
              AND v.id <> (SELECT l.id FROM sync_verifications l WHERE l.job_name = v.job_name ORDER BY l.verified_at DESC, l.id DESC LIMIT 1)
            """,
            cancellationToken);
        return (runs, verifications);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Forgot {Runs} runs and {Verifications} verifications older than {Days:0.#} days")]
    private partial void LogPruned(long runs, long verifications, double days);
}
