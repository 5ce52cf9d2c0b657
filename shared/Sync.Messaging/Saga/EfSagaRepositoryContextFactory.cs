using MassTransit;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;

namespace Sync.Messaging.Saga;

/// <summary>
/// Saga persistence on EF Core (MassTransit.EntityFrameworkCore is not available here): one
/// database transaction per message, the instance locked with SELECT … FOR UPDATE, and the scoped
/// <typeparamref name="TDbContext"/> shared with the saga's activities, so state changes and the
/// rows activities write commit together. When the endpoint's transactional outbox already opened
/// a transaction on that DbContext, the saga joins it and the outbox commits: state change, inbox
/// row and the messages the saga sends are then one commit.
/// </summary>
public sealed class EfSagaRepositoryContextFactory<TDbContext, TSaga>(
    TDbContext dbContext,
    ISagaConsumeContextFactory<TDbContext, TSaga> factory) : ISagaRepositoryContextFactory<TSaga>
    where TDbContext : DbContext
    where TSaga : class, ISaga
{
    public void Probe(ProbeContext context) => context.Add("persistence", "efcore-postgresql");

    public async Task Send<T>(ConsumeContext<T> context, IPipe<SagaRepositoryContext<TSaga, T>> next)
        where T : class
    {
        var repositoryContext = new EfSagaRepositoryContext<TDbContext, TSaga, T>(dbContext, context, factory);
        if (dbContext.Database.CurrentTransaction is not null)
        {
            // The outbox's pass owns the transaction (and tracks its inbox row: no Clear here).
            await next.Send(repositoryContext);
            await dbContext.SaveChangesAsync(context.CancellationToken);
            return;
        }

        dbContext.ChangeTracker.Clear();
        // As in the outbox's pass: a failure rolls back the whole message, no savepoints needed.
        dbContext.Database.AutoSavepointsEnabled = false;
        await using var transaction = await dbContext.Database.BeginTransactionAsync(context.CancellationToken);
        await next.Send(repositoryContext);
        await dbContext.SaveChangesAsync(context.CancellationToken);
        await transaction.CommitAsync(context.CancellationToken);
    }

    public Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class =>
        throw new NotSupportedException("Sync's sagas correlate by id only; query correlation is not supported.");
}
