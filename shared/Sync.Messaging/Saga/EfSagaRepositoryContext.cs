using MassTransit;
using MassTransit.Context;
using MassTransit.Saga;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Sync.Messaging.Saga;

internal sealed class EfSagaRepositoryContext<TDbContext, TSaga, TMessage> :
    ConsumeContextScope<TMessage>, SagaRepositoryContext<TSaga, TMessage>
    where TDbContext : DbContext
    where TSaga : class, ISaga
    where TMessage : class
{
    private readonly TDbContext _dbContext;
    private readonly ConsumeContext<TMessage> _consumeContext;
    private readonly ISagaConsumeContextFactory<TDbContext, TSaga> _factory;

    public EfSagaRepositoryContext(TDbContext dbContext, ConsumeContext<TMessage> consumeContext, ISagaConsumeContextFactory<TDbContext, TSaga> factory)
        : base(consumeContext, dbContext)
    {
        _dbContext = dbContext;
        _consumeContext = consumeContext;
        _factory = factory;
    }

    public Task<SagaConsumeContext<TSaga, T>> CreateSagaConsumeContext<T>(ConsumeContext<T> context, TSaga instance, SagaConsumeContextMode mode)
        where T : class =>
        _factory.CreateSagaConsumeContext(_dbContext, context, instance, mode);

    public Task<SagaConsumeContext<TSaga, TMessage>> Add(TSaga instance) =>
        _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Add);

    public async Task<SagaConsumeContext<TSaga, TMessage>> Insert(TSaga instance)
    {
        _dbContext.Set<TSaga>().Add(instance);
        await _dbContext.SaveChangesAsync(CancellationToken);
        return await _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Insert);
    }

    public async Task<SagaConsumeContext<TSaga, TMessage>> Load(Guid correlationId)
    {
        var instance = await _dbContext.Set<TSaga>()
            .FromSqlRaw(LockSql.For(_dbContext.Model, typeof(TSaga)), correlationId)
            .SingleOrDefaultAsync(CancellationToken);
        return instance is null
            ? null!
            : await _factory.CreateSagaConsumeContext(_dbContext, _consumeContext, instance, SagaConsumeContextMode.Load);
    }

    public Task Save(SagaConsumeContext<TSaga> context)
    {
        _dbContext.Set<TSaga>().Add(context.Saga);
        return Task.CompletedTask;
    }

    // Loaded instances are tracked; the _factory's SaveChanges writes them with everything else.
    public Task Update(SagaConsumeContext<TSaga> context) => Task.CompletedTask;

    public Task Delete(SagaConsumeContext<TSaga> context)
    {
        _dbContext.Set<TSaga>().Remove(context.Saga);
        return Task.CompletedTask;
    }

    public Task Discard(SagaConsumeContext<TSaga> context)
    {
        _dbContext.Entry(context.Saga).State = EntityState.Detached;
        return Task.CompletedTask;
    }

    public Task Undo(SagaConsumeContext<TSaga> context) => Discard(context);
}

/// <summary>SELECT … FOR UPDATE of one instance, built from the EF model's own table and key names.</summary>
internal static class LockSql
{
    public static string For(IModel model, Type sagaType)
    {
        var entity = model.FindEntityType(sagaType) ?? throw new InvalidOperationException($"{sagaType.Name} is not part of the DbContext model.");
        var table = entity.GetTableName()!;
        var schema = entity.GetSchema();
        var store = StoreObjectIdentifier.Table(table, schema);
        var key = entity.FindPrimaryKey()!.Properties.Single().GetColumnName(store)!;
        var qualified = schema is null ? Quote(table) : $"{Quote(schema)}.{Quote(table)}";
        return $"SELECT * FROM {qualified} WHERE {Quote(key)} = {{0}} FOR UPDATE";
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
