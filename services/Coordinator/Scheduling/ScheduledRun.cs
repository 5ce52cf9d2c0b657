using Coravel.Invocable;
using MassTransit;
using Sync.Contracts;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Scheduling;

/// <summary>
/// Starts a run of one job when its cron schedule is due; an active run refuses the start. The
/// scope's publish endpoint is the bus outbox, so a due run is not lost to a crash: the request is a
/// row once SaveChanges commits, and the outbox's delivery service sends it.
/// </summary>
internal sealed class ScheduledRun(string jobName, IPublishEndpoint publish, CoordinatorDbContext dbContext) : IInvocable
{
    public async Task Invoke()
    {
        await publish.Publish(new StartSyncRun(NewId.NextGuid(), jobName, "schedule", DateTimeOffset.UtcNow));
        await dbContext.SaveChangesAsync();
    }
}
