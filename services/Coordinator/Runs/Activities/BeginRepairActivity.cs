using MassTransit;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// Starts a repair run (issue 15, item 2): the keys a verification found different go through the
/// normal pipeline as a dead letter's replay does — the Extractor reads each source row again by
/// key and publishes it (or its delete, when the source has it no longer and the job deletes) as
/// the run's batch, the Transformer and the Loader treat it as any batch. The run is counted and
/// traced as any run; it has no extraction and no watermark to move.
/// </summary>
internal sealed class BeginRepairActivity(JobCatalog jobs, CoordinatorDbContext dbContext) : IStateMachineActivity<SyncRunState, RepairKeys>
{
    public const string Trigger = "repair";

    public async Task Execute(BehaviorContext<SyncRunState, RepairKeys> context, IBehavior<SyncRunState, RepairKeys> next)
    {
        var run = context.Saga;
        var message = context.Message;
        var job = await RunAdmission.AdmitAsync(run, message.JobName, Trigger, message.RequestedAt, jobs, dbContext, context.CancellationToken);
        if (job is null)
        {
            await next.Execute(context);
            return;
        }

        var extractionId = NewId.NextGuid();
        run.ExtractionId = extractionId;
        run.Fence = await RunFences.NextAsync(dbContext, context.CancellationToken);
        run.ExpectedBatches = message.Keys.Count;
        run.ExtractedRows = message.Keys.Count;
        if (message.Keys.Count > 0)
        {
            var keys = message.Keys.Select((values, seq) => new ReplayKey(seq, values)).ToList();
            // The source row as it is now wins: a destination row changed behind the job's back keeps
            // its cursor value, so latest-wins would skip it (measured: 2 tampered rows "skipped").
            // Only one run of a job is active, so no older image can race this one.
            var repairing = job with { Destination = job.Destination with { Conflict = ConflictStrategy.SourceWins } };
            await context.Publish(new RereadRecords(run.CorrelationId, job.Name, extractionId, repairing, keys, run.Fence), context.CancellationToken);
        }

        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<SyncRunState, RepairKeys, TException> context, IBehavior<SyncRunState, RepairKeys> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("begin-repair");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
