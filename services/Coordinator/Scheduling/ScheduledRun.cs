using Coravel.Invocable;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Scheduling;

/// <summary>
/// Starts a run of one job when its cron schedule is due, unless the job is paused (sync_job_pauses);
/// an active run refuses the start. Through the bus outbox, so a due run is not lost to a crash.
/// </summary>
internal sealed class ScheduledRun(string jobName, IPublishEndpoint publish, CoordinatorDbContext dbContext) : IInvocable
{
    public async Task Invoke()
    {
        if (await dbContext.JobPauses.AsNoTracking().AnyAsync(p => p.JobName == jobName))
        {
            return;
        }

        await publish.PublishDurablyAsync(dbContext, new StartSyncRun(NewId.NextGuid(), jobName, "schedule", DateTimeOffset.UtcNow), CancellationToken.None);
    }
}
