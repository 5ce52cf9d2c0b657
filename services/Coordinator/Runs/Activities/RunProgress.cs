using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>Recomputes a run's counts from the batches of its accepted extraction, so repeats never count twice.</summary>
internal static class RunProgress
{
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
