using MassTransit;
using Sync.Contracts;
using Sync.ServiceDefaults;

namespace Sync.Coordinator.Data;

/// <summary>
/// Publishing outside a consumer. The scope's <see cref="IPublishEndpoint"/> is the bus outbox
/// (Sync.Outbox): a publish is only a row until the DbContext commits it, and a publish that is
/// never committed is silently dropped. This pairs the two, so a message is durable once this returns
/// and the outbox's delivery service sends it. A message that starts a run is captured inside the
/// run's root span (<see cref="RunSpan"/>), so the run is one trace of its own.
/// </summary>
internal static class DurablePublish
{
    public static async Task PublishDurablyAsync<T>(this IPublishEndpoint publish, CoordinatorDbContext dbContext, T message, CancellationToken cancellationToken)
        where T : class
    {
        using var span = message switch
        {
            StartSyncRun start => RunSpan.Start(start.JobName, start.RunId, start.Trigger),
            ReplayDeadLetters replay => RunSpan.Start(replay.JobName, replay.RunId, "replay"),
            RepairKeys repair => RunSpan.Start(repair.JobName, repair.RunId, "repair"),
            _ => null,
        };
        await publish.Publish(message, cancellationToken);
        await dbContext.SaveChangesAsync(cancellationToken);
    }
}
