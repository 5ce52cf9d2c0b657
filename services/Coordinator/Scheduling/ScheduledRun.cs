using Coravel.Invocable;
using MassTransit;
using Sync.Contracts;

namespace Sync.Coordinator.Scheduling;

/// <summary>Starts a run of one job when its cron schedule is due; an active run refuses the start.</summary>
internal sealed class ScheduledRun(string jobName, IBus bus) : IInvocable
{
    public Task Invoke() => bus.Publish(new StartSyncRun(NewId.NextGuid(), jobName, "schedule", DateTimeOffset.UtcNow));
}
