using MassTransit;

namespace Sync.Coordinator.Data;

/// <summary>
/// Publishing outside a consumer. The scope's <see cref="IPublishEndpoint"/> is the bus outbox
/// (Sync.Outbox): a publish is only a row until the DbContext commits it, and a publish that is
/// never committed is silently dropped. This pairs the two, so a message is durable once this returns
/// and the outbox's delivery service sends it.
/// </summary>
internal static class DurablePublish
{
    public static async Task PublishDurablyAsync<T>(this IPublishEndpoint publish, CoordinatorDbContext dbContext, T message, CancellationToken cancellationToken)
        where T : class
    {
        await publish.Publish(message, cancellationToken);
        await dbContext.SaveChangesAsync(cancellationToken);
    }
}
