using MassTransit;
using MassTransit.DependencyInjection;
using MassTransit.Middleware.Outbox;
using Microsoft.EntityFrameworkCore;

namespace Sync.Outbox.Bus;

/// <summary>
/// Replaces MassTransit's scoped bus context: inside a consumer, publishing goes through the
/// consume context (and so through the consumer outbox); outside one, through the bus outbox.
/// </summary>
internal sealed class BusOutboxContextProvider<TDbContext> : IScopedBusContextProvider<IBus>, IDisposable
    where TDbContext : DbContext
{
    public BusOutboxContextProvider(
        IBus bus,
        TDbContext dbContext,
        IBusOutboxNotification notification,
        Bind<IBus, IClientFactory> clientFactory,
        Bind<IBus, IScopedConsumeContextProvider> consumeContextProvider,
        IScopedConsumeContextProvider globalConsumeContextProvider,
        IServiceProvider provider)
    {
        if (consumeContextProvider.Value.HasContext)
        {
            Context = new ConsumeContextScopedBusContext(consumeContextProvider.Value.GetContext(), clientFactory.Value);
        }
        else if (globalConsumeContextProvider.HasContext)
        {
            Context = new ConsumeContextScopedBusContext<IBus>(bus, globalConsumeContextProvider.GetContext(), clientFactory.Value, provider);
        }
        else
        {
            Context = new BusOutboxContext<TDbContext>(bus, dbContext, notification, clientFactory.Value, provider);
        }
    }

    public ScopedBusContext Context { get; }

    public void Dispose() => (Context as IDisposable)?.Dispose();
}
