using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace Sync.Outbox.Consumer;

/// <summary>The outbox rows of one inbox row: read in order after its last sequence number, and removed once delivered.</summary>
internal static class ConsumerOutbox
{
    public static async Task<List<OutboxMessage>> PendingAsync(DbContext dbContext, InboxState inbox, int limit, IObjectDeserializer deserializer, CancellationToken cancellationToken)
    {
        var after = inbox.LastSequenceNumber ?? 0;
        var messages = await dbContext.Set<OutboxMessage>()
            .Where(m => m.InboxMessageId == inbox.MessageId && m.InboxConsumerId == inbox.ConsumerId && m.SequenceNumber > after)
            .OrderBy(m => m.SequenceNumber)
            .Take(limit)
            .AsNoTracking()
            .ToListAsync(cancellationToken);
        foreach (var message in messages)
        {
            message.Deserialize(deserializer);
        }

        return messages;
    }

    public static Task<int> RemoveAsync(DbContext dbContext, InboxState inbox, CancellationToken cancellationToken) =>
        dbContext.Set<OutboxMessage>()
            .Where(m => m.InboxMessageId == inbox.MessageId && m.InboxConsumerId == inbox.ConsumerId)
            .ExecuteDeleteAsync(cancellationToken);
}
