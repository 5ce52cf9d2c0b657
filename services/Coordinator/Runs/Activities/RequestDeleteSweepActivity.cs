using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// Every batch of a full refresh that deletes is loaded: asks the Loader to sweep the rows the run
/// did not load (through the saga's outbox, with the run's state change). A run that read no row
/// is refused instead, unless the job allows an empty source: an empty read is more often a broken
/// source or a wrong query than a table someone emptied, and sweeping it would empty the destination.
/// So is a run with records set aside before the load (a failed cast, an unreadable record): they
/// never reached the Loader, so their keys are not marked and their rows, still in the source, would go;
/// and one whose filter kept no record at all, which would empty the destination like an empty read.
/// </summary>
internal sealed class RequestDeleteSweepActivity(JobCatalog jobs, CoordinatorDbContext dbContext) : RunActivity("request-sweep")
{
    protected override async Task ExecuteAsync(BehaviorContext<SyncRunState> context)
    {
        var run = context.Saga;
        var job = jobs.Find(run.JobName);
        if (job is null)
        {
            run.FailureReason = $"Job \"{run.JobName}\" is no longer defined in {jobs.Directory}; the destination was not swept.";
            return;
        }

        if (run.ExtractedRows == 0 && !job.Destination.AllowEmpty)
        {
            run.FailureReason =
                "The full refresh read no rows from the source, so its sweep would delete every destination row; nothing was deleted. " +
                "If the source is meant to be empty, set destination.allow_empty: true in the job file.";
            return;
        }

        // A load in key ranges took one extraction per range.
        List<Guid> extractions = run.RangeCount is null ? [run.ExtractionId ?? Guid.Empty] : await RunRanges.ExtractionsAsync(dbContext, run.CorrelationId, context.CancellationToken);
        var unmarked = await dbContext.DeadLetters.AsNoTracking()
            .CountAsync(d => d.RunId == run.CorrelationId && extractions.Contains(d.ExtractionId) && d.Kind == "record" && d.Stage != "load", context.CancellationToken);
        if (unmarked > 0)
        {
            run.FailureReason =
                $"{unmarked} record(s) of the full refresh were set aside before the load (dead letters of stage extract or transform), so the destination " +
                "does not know their keys and its sweep would delete their rows; nothing was deleted. Fix the records' cause (GET /api/dead-letters?job=), then run again.";
            return;
        }

        // Every record read was dropped by the job's filter (or C# transform): the keys table is as
        // empty as after an empty read, so the same rule holds — more often a wrong filter than a wish
        // to empty the destination.
        if (run.Processed == 0 && !job.Destination.AllowEmpty)
        {
            run.FailureReason =
                $"The full refresh read {run.ExtractedRows} row(s) but its filter: (or C# transform) kept none, so its sweep would delete every destination row; " +
                "nothing was deleted. Check the filter; if the destination is meant to be emptied, set destination.allow_empty: true in the job file.";
            return;
        }

        await context.Publish(new SweepDeletes(run.CorrelationId, run.JobName, job, run.Fence), context.CancellationToken);
    }
}
