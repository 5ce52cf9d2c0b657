using MassTransit;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;

namespace Sync.Messaging.Saga;

/// <summary>
/// Saga persistence on EF Core (MassTransit.EntityFrameworkCore is not available here): one
/// database transaction per message, the instance locked with SELECT … FOR UPDATE, and the scoped
/// <typeparamref name="TDbContext"/> shared with the saga's activities, so state changes and the
/// rows activities write commit together.
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
        dbContext.ChangeTracker.Clear();
        await using var transaction = await dbContext.Database.BeginTransactionAsync(context.CancellationToken);
        var repositoryContext = new EfSagaRepositoryContext<TDbContext, TSaga, T>(dbContext, context, factory);
        await next.Send(repositoryContext);
        await dbContext.SaveChangesAsync(context.CancellationToken);
        await transaction.CommitAsync(context.CancellationToken);
    }

    public Task SendQuery<T>(ConsumeContext<T> context, ISagaQuery<TSaga> query, IPipe<SagaRepositoryQueryContext<TSaga, T>> next)
        where T : class =>
        throw new NotSupportedException("Sync's sagas correlate by id only; query correlation is not supported.");
}
