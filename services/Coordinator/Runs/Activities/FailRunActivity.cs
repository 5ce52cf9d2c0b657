using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.DeadLetters;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>Ends a run without touching the watermark; the next run starts again from it.</summary>
internal sealed class FailRunActivity(CoordinatorDbContext dbContext, ILogger<FailRunActivity> logger) : RunActivity("fail-run")
{
    protected override async Task ExecuteAsync(BehaviorContext<SyncRunState> context)
    {
        var run = context.Saga;
        run.FinishedAt = DateTimeOffset.UtcNow;
        await DeadLetterStore.ReleaseReplayAsync(dbContext, run.CorrelationId, context.CancellationToken);
        await RunMetrics.RecordAsync(dbContext, run, context.CancellationToken);
        RunTelemetry.Finished(logger, run, RunStates.Failed);
        await context.Publish(new SyncRunFailed(run.CorrelationId, run.JobName, run.FailureReason ?? "unknown"), context.CancellationToken);
    }
}
