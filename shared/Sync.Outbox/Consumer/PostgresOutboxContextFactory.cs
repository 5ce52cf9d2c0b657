using System.Data;
using MassTransit;
using MassTransit.Middleware;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Sync.Outbox.Consumer;

/// <summary>
/// The storage half of MassTransit's consumer outbox (<see cref="OutboxConsumeFilter{TContext,TMessage}"/>
/// and <see cref="OutboxMessagePipe{TMessage}"/> decide what each pass does): one transaction per
/// pass, the inbox row of (original message id, consumer) locked with SELECT … FOR UPDATE, looped
/// until the pipe says the message is done. A failed pass rolls back, so retry and redelivery
/// re-enter at the phase that last committed.
/// </summary>
internal sealed partial class PostgresOutboxContextFactory<TDbContext>(
    TDbContext dbContext,
    IServiceProvider provider,
    OutboxMetrics metrics,
    ILogger<PostgresOutboxContextFactory<TDbContext>> logger) : IOutboxContextFactory<TDbContext>
    where TDbContext : DbContext
{
    public async Task Send<T>(ConsumeContext<T> context, OutboxConsumeOptions options, IPipe<OutboxConsumeContext<T>> next)
        where T : class
    {
        // Sync's delayed redelivery keeps the MessageId; MassTransit's scheduled redelivery gives a new
        // one and keeps the first in MT-OriginalMessageId. Either way this is the message's first id.
        var messageId = context.GetOriginalMessageId() ?? throw new MessageException(typeof(T), "The outbox needs a MessageId.");
        var lockSql = OutboxSql.LockInbox(dbContext);
        while (await PassAsync(context, options, next, messageId, lockSql))
        {
        }
    }

    private async Task<bool> PassAsync<T>(ConsumeContext<T> context, OutboxConsumeOptions options, IPipe<OutboxConsumeContext<T>> next, Guid messageId, string lockSql)
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

        var inbox = await dbContext.Set<InboxState>()
            .FromSqlRaw(lockSql, messageId, options.ConsumerId)
            .AsTracking()
            .SingleOrDefaultAsync(cancellationToken);
        if (inbox is null)
        {
            dbContext.Add(new InboxState
            {
                MessageId = messageId,
                ConsumerId = options.ConsumerId,
                LockId = NewId.NextGuid(),
                Received = DateTime.UtcNow,
                ExpirationTime = context.ExpirationTime is { } expires ? OutboxMessageFactory.Utc(expires) : null,
            });
            try
            {
                await dbContext.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
            catch (DbUpdateException exception) when (exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
            {
                // A duplicate delivered at the same moment inserted the row first; the next pass waits on its lock.
                metrics.Conflict("inbox-insert");
                LogInsertRace(messageId, options.ConsumerType);
            }

            return true;
        }

        // Written with the pass's other changes: the row is locked already, and a pass that fails
        // rolls all of them back together.
        inbox.LockId = NewId.NextGuid();
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

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateFilterScope("outboxContextFactory");
        scope.Add("provider", "sync-postgres");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Inbox row of message {MessageId} for {ConsumerType} was inserted concurrently; locking it instead")]
    private partial void LogInsertRace(Guid messageId, string consumerType);
}
