using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// A run's progress: its counts, recomputed from the batches of its accepted extraction so repeats never
/// count twice, and the time it last made progress (<see cref="SyncRunState.UpdatedAt"/>), which the run
/// timeout reads.
/// </summary>
internal static class RunProgress
{
    /// <summary>How often an extraction reports that it still reads: four reports per run timeout, so one lost or late report does not fail the run.</summary>
    public static TimeSpan ReportInterval(TimeSpan runTimeout) => runTimeout / 4;

    /// <summary>
    /// Records progress now. The saga's SaveChanges stamps UpdatedAt on every write of the run; this
    /// makes a write when nothing else of the run changed (an extraction's report).
    /// </summary>
    public static void Touch(SyncRunState run) => run.UpdatedAt = DateTimeOffset.UtcNow;

    /// <summary>
    /// Records progress unless it was recorded less than a tenth of the run timeout (at most a second)
    /// ago: batches loaded before their extraction is accepted change nothing else of the run, and an
    /// UPDATE of it for each would cost the Coordinator a write per batch for a timestamp the timeout
    /// reads at second resolution.
    /// </summary>
    public static void Touch(SyncRunState run, TimeSpan runTimeout)
    {
        var resolution = TimeSpan.FromTicks(Math.Min(TimeSpan.TicksPerSecond, runTimeout.Ticks / 10));
        if (DateTimeOffset.UtcNow - run.UpdatedAt >= resolution)
        {
            Touch(run);
        }
    }

    public static void Add(SyncRunState run, BatchLoaded batch)
    {
        run.LoadedBatches++;
        run.Processed += batch.Rows + batch.Failed;
        run.Inserted += batch.Inserted;
        run.Updated += batch.Updated;
        run.Skipped += batch.Skipped;
        run.Errors += batch.Failed;
        run.Deleted += batch.Deleted;
    }

    public static async Task RefreshAsync(CoordinatorDbContext dbContext, SyncRunState run, CancellationToken cancellationToken)
    {
        if (run.ExtractionId is not { } extractionId)
        {
            return;
        }

        var totals = await dbContext.RunBatches.AsNoTracking()
            .Where(b => b.RunId == run.CorrelationId && b.ExtractionId == extractionId)
            .GroupBy(b => 1)
            .Select(g => new
            {
                Batches = g.Count(),
                Rows = g.Sum(b => (long)b.Rows),
                Inserted = g.Sum(b => (long)b.Inserted),
                Updated = g.Sum(b => (long)b.Updated),
                Skipped = g.Sum(b => (long)b.Skipped),
                Failed = g.Sum(b => (long)b.Failed),
                Deleted = g.Sum(b => (long)b.Deleted),
            })
            .FirstOrDefaultAsync(cancellationToken);
        if (totals is null)
        {
            return;
        }

        run.LoadedBatches = totals.Batches;
        run.Processed = totals.Rows + totals.Failed;
        run.Inserted = totals.Inserted;
        run.Updated = totals.Updated;
        run.Skipped = totals.Skipped;
        run.Errors = totals.Failed;
        run.Deleted = totals.Deleted;
    }
}
