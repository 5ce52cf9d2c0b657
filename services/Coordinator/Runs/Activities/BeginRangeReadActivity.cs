using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// An Extractor begins reading one range of a run's load in key ranges: counted as a read of that
/// range (sync_run_ranges.reads) and given the run's fence, which every range shares — a fence of its
/// own would make the destination refuse the other ranges' batches. A range the run already took an
/// extraction of is refused (fence 0): a redelivered range reads nothing again. So is an extraction
/// of the whole table (no range) once the run is ranged.
/// </summary>
internal sealed class BeginRangeReadActivity(CoordinatorDbContext dbContext) : IStateMachineActivity<SyncRunState, BeginExtraction>
{
    public async Task Execute(BehaviorContext<SyncRunState, BeginExtraction> context, IBehavior<SyncRunState, BeginExtraction> next)
    {
        var run = context.Saga;
        var taken = 0;
        if (context.Message.Range is { } index)
        {
            taken = await dbContext.Database.ExecuteSqlAsync(
                $"UPDATE sync_run_ranges SET reads = reads + 1 WHERE run_id = {run.CorrelationId} AND range_index = {index} AND extraction_id IS NULL",
                context.CancellationToken);
        }

        if (taken == 1)
        {
            RunProgress.Touch(run);
        }

        await context.RespondAsync(new ExtractionFenced(run.CorrelationId, context.Message.ExtractionId, taken == 1 ? run.Fence : 0));
        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<SyncRunState, BeginExtraction, TException> context, IBehavior<SyncRunState, BeginExtraction> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("begin-range-read");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
