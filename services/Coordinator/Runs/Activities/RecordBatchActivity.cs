using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.DeadLetters;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// Records a loaded batch once, however often its BatchLoaded arrives, and counts it and its dead letters
/// once. Every batch recorded for the run is progress for the run timeout, also while its extraction
/// still reads.
/// </summary>
internal sealed class RecordBatchActivity(CoordinatorDbContext dbContext, JobCatalog jobs, IOptions<CoordinatorOptions> options) : IStateMachineActivity<SyncRunState, BatchLoaded>
{
    public async Task Execute(BehaviorContext<SyncRunState, BatchLoaded> context, IBehavior<SyncRunState, BatchLoaded> next)
    {
        var m = context.Message;
        var recorded = await dbContext.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO sync_run_batches (run_id, extraction_id, batch_seq, rows, inserted, updated, skipped, failed, deleted, schema_changes, stream)
            VALUES ({m.RunId}, {m.ExtractionId}, {m.BatchSeq}, {m.Rows}, {m.Inserted}, {m.Updated}, {m.Skipped}, {m.Failed}, {m.Deleted}, {m.SchemaChanges?.ToArray()}, {m.Stream})
            ON CONFLICT DO NOTHING
            """,
            context.CancellationToken);
        // A batch of the accepted extraction seen for the first time adds to the counts; batches
        // that arrived before the extraction was accepted are summed when it is.
        if (recorded == 1 && context.Saga.RangeCount is not null)
        {
            // A load in key ranges: the batch counts when its range's extraction is taken; else when it is.
            if (await RunRanges.CountBatchAsync(dbContext, m, context.CancellationToken))
            {
                RunProgress.Add(context.Saga, m);
            }
            else
            {
                RunProgress.Touch(context.Saga, options.Value.RunTimeout);
            }
        }
        else if (recorded == 1 && context.Saga.ExtractionId == m.ExtractionId)
        {
            RunProgress.Add(context.Saga, m);
        }
        else if (recorded == 1 && context.Saga.ExtractionId is null)
        {
            // Nothing else of the run changes until its extraction completes, which may be long
            // after the run timeout (a large table, a slow API, a cdc first copy).
            RunProgress.Touch(context.Saga, options.Value.RunTimeout);
        }

        // Dead letters once per batch, with the batch's record; none from an extraction the run did not take.
        if (recorded == 1 && (context.Saga.ExtractionId is null || context.Saga.ExtractionId == m.ExtractionId))
        {
            await DeadLetterStore.RecordRejectsAsync(dbContext, context.Saga, m, DeadLetterStreams.Of(jobs, m.JobName, m.Stream), context.CancellationToken);
        }

        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<SyncRunState, BatchLoaded, TException> context, IBehavior<SyncRunState, BatchLoaded> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("record-batch");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
