using MassTransit;
using MassTransit.DependencyInjection;
using MassTransit.Middleware;
using MassTransit.Middleware.Outbox;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sync.Outbox;
using Sync.Outbox.Bus;
using Sync.Outbox.Cleanup;
using Sync.Outbox.Consumer;
using Sync.Outbox.Delivery;

namespace Microsoft.Extensions.Hosting;

public static class OutboxRegistrationExtensions
{
    /// <summary>
    /// The Postgres inbox and outbox in <typeparamref name="TDbContext"/> (whose model calls
    /// <c>modelBuilder.AddSyncOutbox()</c>): the consumer outbox behind MassTransit's
    /// IOutboxContextFactory (endpoints opt in with <c>UseSyncOutbox&lt;TDbContext&gt;</c>), the bus
    /// outbox for publishing outside a consumer (publish, then SaveChanges), the delivery service
    /// and the inbox cleanup. Call inside AddMassTransit.
    /// </summary>
    public static IBusRegistrationConfigurator AddSyncOutbox<TDbContext>(this IBusRegistrationConfigurator bus)
        where TDbContext : DbContext
    {
        bus.AddOptions<OutboxOptions>()
            .BindConfiguration(OutboxOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        bus.AddMetrics();
        bus.TryAddSingleton<OutboxMetrics>();
        bus.TryAddSingleton<IBusOutboxNotification, BusOutboxSignal>();
        bus.TryAddScoped<OutboxSender>();
        bus.TryAddScoped<IOutboxContextFactory<TDbContext>, PostgresOutboxContextFactory<TDbContext>>();
        bus.Replace(ServiceDescriptor.Scoped<IScopedBusContextProvider<IBus>, BusOutboxContextProvider<TDbContext>>());
        bus.AddHostedService<OutboxDeliveryService<TDbContext>>();
        bus.AddHostedService<InboxCleanupService<TDbContext>>();
        return bus;
    }
}
