using System.Data;
using MassTransit;
using MassTransit.Middleware;
using Microsoft.EntityFrameworkCore;

namespace Sync.Outbox.Consumer;

/// <summary>
/// The storage half of MassTransit's consumer outbox (<see cref="OutboxConsumeFilter{TContext,TMessage}"/>
/// and <see cref="OutboxMessagePipe{TMessage}"/> decide what each pass does): one transaction per
/// pass, the inbox row of (original message id, consumer) locked, looped until the pipe says the
/// message is done. The first pass inserts the row (or locks the one there) and consumes in one
/// transaction, so a message whose consumer sends nothing takes one transaction in all. A failed pass rolls back, so retry and redelivery
/// re-enter at the phase that last committed.
/// </summary>
internal sealed class PostgresOutboxContextFactory<TDbContext>(
    TDbContext dbContext,
    IServiceProvider provider) : IOutboxContextFactory<TDbContext>
    where TDbContext : DbContext
{
    public async Task Send<T>(ConsumeContext<T> context, OutboxConsumeOptions options, IPipe<OutboxConsumeContext<T>> next)
        where T : class
    {
        // Sync's delayed redelivery keeps the MessageId; MassTransit's scheduled redelivery gives a new
        // one and keeps the first in MT-OriginalMessageId. Either way this is the message's first id.
        var messageId = context.GetOriginalMessageId() ?? throw new MessageException(typeof(T), "The outbox needs a MessageId.");
        var lockSql = OutboxSql.LockInbox(dbContext);
        var receiveSql = OutboxSql.ReceiveInbox(dbContext);
        for (var pass = 0; await PassAsync(context, options, next, messageId, pass == 0 ? receiveSql : lockSql, receiveSql); pass++)
        {
        }
    }

    /// <param name="lockSql">The first pass inserts the inbox row or locks the one there (<see cref="OutboxSql.ReceiveInbox"/>), the later ones lock it.</param>
    private async Task<bool> PassAsync<T>(ConsumeContext<T> context, OutboxConsumeOptions options, IPipe<OutboxConsumeContext<T>> next, Guid messageId, string lockSql, string receiveSql)
        where T : class
    {
        var cancellationToken = context.CancellationToken;
        // A pass starts from what is committed, not from what a failed pass left tracked.
        dbContext.ChangeTracker.Clear();
        // A failed SaveChanges fails the whole pass, which rolls back: EF's automatic savepoint around
        // each SaveChanges in a transaction (SAVEPOINT before, RELEASE after) would only add two
        // round trips to each SaveChanges that writes (two in a saga's pass).
        dbContext.Database.AutoSavepointsEnabled = false;
        await using var transaction = await dbContext.Database.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellationToken);

        // The message's inbox row, inserted and locked in this pass's transaction: a pass that fails
        // (the consumer threw) rolls the new row back with the rest, and the retry inserts it again.
        var inbox = ReferenceEquals(lockSql, receiveSql) ? null : await LockAsync(lockSql, messageId, options.ConsumerId, cancellationToken);
        if (inbox is null)
        {
            var expiration = context.ExpirationTime is { } expires ? OutboxMessageFactory.Utc(expires) : (DateTime?)null;
            inbox = (await dbContext.Set<InboxState>()
                .FromSqlRaw(receiveSql, messageId, options.ConsumerId, NewId.NextGuid(), DateTime.UtcNow, expiration!)
                .AsTracking()
                .ToListAsync(cancellationToken)).Single();
        }
        else
        {
            inbox.LockId = NewId.NextGuid();
        }

        // Written with the pass's other changes: the row is locked already, and a pass that fails
        // rolls all of them back together.
        inbox.ReceiveCount++;
        inbox.RowVersion++;

        var consumedBefore = inbox.Consumed.HasValue;
        var outboxContext = new PostgresOutboxConsumeContext<TDbContext, T>(context, options, provider, dbContext, inbox);
        await next.Send(outboxContext);
        if (!consumedBefore && inbox.Consumed.HasValue && outboxContext.CapturedCount == 0)
        {
            // The consumer sent nothing (the saga recording a BatchLoaded, say): the delivery pass would
            // find no outbox row and the removal pass none to delete, so this pass marks the row
            // delivered in the same commit. Two transactions (and seven statements) fewer per such message.
            await outboxContext.ConsumeCompleted;
            inbox.Delivered = DateTime.UtcNow;
            outboxContext.ContinueProcessing = false;
        }

        await dbContext.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return outboxContext.ContinueProcessing;
    }

    private async Task<InboxState?> LockAsync(string lockSql, Guid messageId, Guid consumerId, CancellationToken cancellationToken) =>
        await dbContext.Set<InboxState>()
            .FromSqlRaw(lockSql, messageId, consumerId)
            .AsTracking()
            .SingleOrDefaultAsync(cancellationToken);

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateFilterScope("outboxContextFactory");
        scope.Add("provider", "sync-postgres");
    }
}
