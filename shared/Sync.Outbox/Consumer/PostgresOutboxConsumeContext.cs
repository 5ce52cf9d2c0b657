using MassTransit;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Sync.Outbox.Consumer;

/// <summary>
/// One pass of a consumer over its locked inbox row: what the consumer sends or publishes becomes
/// outbox_message rows in the pass's transaction, and the phase changes (consumed, delivered,
/// last sequence number) are written to the inbox row.
/// </summary>
internal sealed class PostgresOutboxConsumeContext<TDbContext, TMessage>(
    ConsumeContext<TMessage> context,
    OutboxConsumeOptions options,
    IServiceProvider provider,
    TDbContext dbContext,
    InboxState inbox) : OutboxConsumeContextProxy<TMessage>(context, options, provider)
    where TDbContext : DbContext
    where TMessage : class
{
    public override Guid? MessageId => inbox.MessageId;

    public override bool ContinueProcessing { get; set; } = true;

    public override bool IsMessageConsumed => inbox.Consumed.HasValue;

    public override bool IsOutboxDelivered => inbox.Delivered.HasValue;

    public override int ReceiveCount => inbox.ReceiveCount;

    public override long? LastSequenceNumber => inbox.LastSequenceNumber;

    private int _captured;

    /// <summary>Sends and publishes this pass turned into outbox rows.</summary>
    public int CapturedCount => Volatile.Read(ref _captured);

    // The pass's SaveChanges writes these with everything else just before its commit.
    public override Task SetConsumed()
    {
        inbox.Consumed = DateTime.UtcNow;
        return Task.CompletedTask;
    }

    public override Task SetDelivered()
    {
        inbox.Delivered = DateTime.UtcNow;
        return Task.CompletedTask;
    }

    public override async Task<List<OutboxMessageContext>> LoadOutboxMessages()
    {
        var messages = await ConsumerOutbox.PendingAsync(dbContext, inbox, Options.MessageDeliveryLimit + 1, SerializerContext, CancellationToken);
        return [.. messages];
    }

    public override Task NotifyOutboxMessageDelivered(OutboxMessageContext message)
    {
        inbox.LastSequenceNumber = message.SequenceNumber;
        return Task.CompletedTask;
    }

    public override async Task RemoveOutboxMessages() => await ConsumerOutbox.RemoveAsync(dbContext, inbox, CancellationToken);

    public override Task AddSend<T>(SendContext<T> context)
    {
        var message = OutboxMessageFactory.Create(context, SerializerContext, inbox.MessageId, ConsumerId, outboxId: null);
        // Sends of one consumer may come from several tasks; the change tracker is not thread-safe.
        lock (dbContext)
        {
            dbContext.Add(message);
        }

        Interlocked.Increment(ref _captured);

        return Task.CompletedTask;
    }
}
