using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// A completed run of a cdc job with <c>schedule: continuous</c> starts the job's next run at once,
/// unless the job is paused. The StartSyncRun goes out through the outbox with the run's end, so a
/// crash between the two loses neither; <see cref="Scheduling.ContinuousRunStarter"/> restarts a stream
/// whose run failed.
/// </summary>
internal sealed class ContinueStreamActivity(JobCatalog jobs, CoordinatorDbContext dbContext) : RunActivity("continue-stream")
{
    public const string Trigger = "continuous";

    protected override async Task ExecuteAsync(BehaviorContext<SyncRunState> context)
    {
        var run = context.Saga;
        if (run.Trigger is "replay" or BeginRepairActivity.Trigger || jobs.Find(run.JobName) is not { Mode: SyncMode.Cdc, Schedule: "continuous" }
            || await dbContext.JobPauses.AsNoTracking().AnyAsync(p => p.JobName == run.JobName, context.CancellationToken))
        {
            return;
        }

        await context.Publish(new StartSyncRun(NewId.NextGuid(), run.JobName, Trigger, DateTimeOffset.UtcNow), context.CancellationToken);
    }
}
