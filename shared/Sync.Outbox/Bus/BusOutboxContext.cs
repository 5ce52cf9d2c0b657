using MassTransit;
using MassTransit.Clients;
using MassTransit.DependencyInjection;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;
using MassTransit.Serialization;
using MassTransit.Transports;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;

namespace Sync.Outbox.Bus;

/// <summary>
/// What IPublishEndpoint and ISendEndpointProvider are in a scope outside a consumer (an API
/// request): sends become outbox_message rows of one outbox_state, tracked by the scope's
/// DbContext, so they commit with the caller's SaveChanges and its business data, or not at all.
/// The delivery service sends them; it is woken when the scope ends after a commit.
/// </summary>
internal sealed class BusOutboxContext<TDbContext>(
    IBus bus,
    TDbContext dbContext,
    IBusOutboxNotification notification,
    IClientFactory clientFactory,
    IServiceProvider provider) : ScopedBusContext, OutboxSendContext, IDisposable
    where TDbContext : DbContext
{
    private readonly Lock _gate = new();
    private Guid _outboxId = NewId.NextGuid();
    private EntityEntry<OutboxState>? _outboxState;
    private IPublishEndpoint? _publishEndpoint;
    private ISendEndpointProvider? _sendEndpointProvider;
    private IScopedClientFactory? _scopedClientFactory;

    public ISendEndpointProvider SendEndpointProvider => _sendEndpointProvider ??= new OutboxSendEndpointProvider(this, bus);

    public IPublishEndpoint PublishEndpoint => _publishEndpoint ??= new PublishEndpoint(new OutboxPublishEndpointProvider(this, bus));

    public IScopedClientFactory ClientFactory =>
        _scopedClientFactory ??= new ScopedClientFactory(new ClientFactory(new ScopedClientFactoryContext(clientFactory, provider)), null);

    public Task AddSend<T>(SendContext<T> context)
        where T : class
    {
        lock (_gate)
        {
            // After a commit the next send starts a new unit of work.
            if (WasCommitted())
            {
                notification.Delivered();
                _outboxId = NewId.NextGuid();
                _outboxState = null;
            }

            _outboxState ??= dbContext.Add(new OutboxState { OutboxId = _outboxId, LockId = NewId.NextGuid(), Created = DateTime.UtcNow });
            dbContext.Add(OutboxMessageFactory.Create(context, SystemTextJsonMessageSerializer.Instance, null, null, _outboxId));
        }

        return Task.CompletedTask;
    }

    public object? GetService(Type serviceType) => provider.GetService(serviceType);

    public void Dispose()
    {
        if (WasCommitted())
        {
            notification.Delivered();
        }

        _outboxState = null;
    }

    // SaveChanges turns the Added entry Unchanged; a ChangeTracker.Clear() detaches it (not committed here).
    private bool WasCommitted() => _outboxState?.State == EntityState.Unchanged;
}
