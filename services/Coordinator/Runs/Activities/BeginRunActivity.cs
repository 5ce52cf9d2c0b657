using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// Starts a run: refuses it when the job is unknown or already has an active run, otherwise reads
/// the committed watermark and asks the Extractor for everything after it.
/// </summary>
internal sealed class BeginRunActivity(JobCatalog jobs, CoordinatorDbContext dbContext) : IStateMachineActivity<SyncRunState, StartSyncRun>
{
    public async Task Execute(BehaviorContext<SyncRunState, StartSyncRun> context, IBehavior<SyncRunState, StartSyncRun> next)
    {
        var run = context.Saga;
        var message = context.Message;
        run.JobName = message.JobName;
        run.Trigger = message.Trigger;
        run.RequestedAt = message.RequestedAt;
        run.StartedAt = DateTimeOffset.UtcNow;

        var job = jobs.Find(message.JobName);
        if (job is null)
        {
            run.FailureReason = $"Job \"{message.JobName}\" is not defined in {jobs.Directory}.";
            run.FinishedAt = run.StartedAt;
            await next.Execute(context);
            return;
        }

        var active = await dbContext.Runs.AsNoTracking()
            .Where(r => r.JobName == message.JobName && r.CorrelationId != run.CorrelationId
                && (r.CurrentState == RunStates.Extracting || r.CurrentState == RunStates.Loading))
            .Select(r => (Guid?)r.CorrelationId)
            .FirstOrDefaultAsync(context.CancellationToken);
        if (active is not null)
        {
            run.FailureReason = $"Run {active} of job \"{message.JobName}\" is still active; at most one run of a job is active at a time.";
            run.FinishedAt = run.StartedAt;
            await next.Execute(context);
            return;
        }

        var watermark = await dbContext.Watermarks.AsNoTracking()
            .FirstOrDefaultAsync(w => w.Key == message.JobName, context.CancellationToken);
        run.StartCursor = watermark?.Cursor;
        var after = watermark is null ? null : JsonSerializer.Deserialize<CursorPosition>(watermark.Cursor);
        run.Fence = await RunFences.NextAsync(dbContext, context.CancellationToken);
        await context.Publish(new ExtractBatches(run.CorrelationId, job.Name, job, after, run.Fence), context.CancellationToken);
        await next.Execute(context);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<SyncRunState, StartSyncRun, TException> context, IBehavior<SyncRunState, StartSyncRun> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("begin-run");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
