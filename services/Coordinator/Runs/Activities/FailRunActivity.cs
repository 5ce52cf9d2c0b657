using MassTransit;
using Sync.Contracts;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>Ends a run without touching the watermark; the next run starts again from it.</summary>
internal sealed class FailRunActivity(CoordinatorDbContext dbContext) : IStateMachineActivity<SyncRunState>
{
    public async Task Execute(BehaviorContext<SyncRunState> context, IBehavior<SyncRunState> next)
    {
        await FailAsync(context);
        await next.Execute(context);
    }

    public async Task Execute<T>(BehaviorContext<SyncRunState, T> context, IBehavior<SyncRunState, T> next)
        where T : class
    {
        await FailAsync(context);
        await next.Execute(context);
    }

    private async Task FailAsync(BehaviorContext<SyncRunState> context)
    {
        var run = context.Saga;
        run.FinishedAt = DateTimeOffset.UtcNow;
        await RunMetrics.RecordAsync(dbContext, run, context.CancellationToken);
        await context.Publish(new SyncRunFailed(run.CorrelationId, run.JobName, run.FailureReason ?? "unknown"), context.CancellationToken);
    }

    public Task Faulted<TException>(BehaviorExceptionContext<SyncRunState, TException> context, IBehavior<SyncRunState> next)
        where TException : Exception => next.Faulted(context);

    public Task Faulted<T, TException>(BehaviorExceptionContext<SyncRunState, T, TException> context, IBehavior<SyncRunState, T> next)
        where T : class
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("fail-run");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
