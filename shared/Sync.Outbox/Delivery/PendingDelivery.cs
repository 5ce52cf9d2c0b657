using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sync.Outbox.Consumer;

namespace Sync.Outbox.Delivery;

/// <summary>One transaction per unit of work: lock it (skipping what another replica holds), send after its last sequence number, record how far it got.</summary>
internal sealed class PendingDelivery(DbContext dbContext, OutboxSender sender, OutboxOptions options)
{
    /// <summary>Delivers the oldest bus outbox; null when there is none to take.</summary>
    public async Task<DeliveryResult?> BusOutboxAsync(CancellationToken cancellationToken)
    {
        dbContext.ChangeTracker.Clear();
        await using var transaction = await dbContext.Database.BeginTransactionAsync(cancellationToken);
        var state = await LockAsync(dbContext.Set<OutboxState>().FromSqlRaw(OutboxSql.NextOutbox(dbContext)), cancellationToken);
        if (state is null)
        {
            return null;
        }

        state.LockId = NewId.NextGuid();
        state.RowVersion++;
        var messages = dbContext.Set<OutboxMessage>().Where(m => m.OutboxId == state.OutboxId);
        if (state.Delivered is not null)
        {
            await messages.ExecuteDeleteAsync(cancellationToken);
            dbContext.Remove(state);
            await CommitAsync(transaction, cancellationToken);
            return new DeliveryResult(0, Done: true);
        }

        var after = state.LastSequenceNumber ?? 0;
        var pending = await messages.Where(m => m.SequenceNumber > after).OrderBy(m => m.SequenceNumber)
            .Take(options.MessageDeliveryLimit).AsNoTracking().ToListAsync(cancellationToken);
        var sent = await sender.SendAsync(pending, cancellationToken);
        if (sent is { } last)
        {
            await messages.Where(m => m.SequenceNumber <= last).ExecuteDeleteAsync(cancellationToken);
            state.LastSequenceNumber = last;
        }

        var done = Drained(pending, sent);
        if (done)
        {
            // Everything is out and its rows are gone: the unit of work is done.
            state.Delivered = DateTime.UtcNow;
            dbContext.Remove(state);
        }

        await CommitAsync(transaction, cancellationToken);
        return new DeliveryResult(Count(pending, sent), done);
    }

    /// <summary>Delivers the oldest stranded consumer outbox; null when there is none.</summary>
    public async Task<DeliveryResult?> StrandedInboxAsync(CancellationToken cancellationToken)
    {
        dbContext.ChangeTracker.Clear();
        await using var transaction = await dbContext.Database.BeginTransactionAsync(cancellationToken);
        var before = DateTime.UtcNow - options.StrandedDeliveryDelay;
        var inbox = await LockAsync(dbContext.Set<InboxState>().FromSqlRaw(OutboxSql.NextStrandedInbox(dbContext), before), cancellationToken);
        if (inbox is null)
        {
            return null;
        }

        inbox.LockId = NewId.NextGuid();
        inbox.RowVersion++;
        var pending = await ConsumerOutbox.PendingAsync(dbContext, inbox, options.MessageDeliveryLimit, MassTransit.Serialization.SystemTextJsonMessageSerializer.Instance, cancellationToken);
        var sent = await sender.SendAsync(pending, cancellationToken);
        if (sent is not null)
        {
            inbox.LastSequenceNumber = sent;
        }

        var done = Drained(pending, sent);
        if (done)
        {
            inbox.Delivered = DateTime.UtcNow;
            await ConsumerOutbox.RemoveAsync(dbContext, inbox, cancellationToken);
        }

        await CommitAsync(transaction, cancellationToken);
        return new DeliveryResult(Count(pending, sent), done);
    }

    private async Task<T?> LockAsync<T>(IQueryable<T> query, CancellationToken cancellationToken)
        where T : class
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.QueryTimeout);
        return await query.AsTracking().SingleOrDefaultAsync(timeout.Token);
    }

    private async Task CommitAsync(Microsoft.EntityFrameworkCore.Storage.IDbContextTransaction transaction, CancellationToken cancellationToken)
    {
        await dbContext.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    // Drained: every message read was sent and the read was not cut short by the limit.
    private bool Drained(List<OutboxMessage> pending, long? sent) =>
        pending.Count < options.MessageDeliveryLimit && (pending.Count == 0 || sent == pending[^1].SequenceNumber);

    private static int Count(List<OutboxMessage> pending, long? sent) =>
        sent is { } last ? pending.Count(m => m.SequenceNumber <= last) : 0;
}

/// <summary>What one unit of work's transaction achieved: messages sent, and whether the unit is finished.</summary>
internal readonly record struct DeliveryResult(int Sent, bool Done)
{
    public bool Progressed => Sent > 0 || Done;
}
