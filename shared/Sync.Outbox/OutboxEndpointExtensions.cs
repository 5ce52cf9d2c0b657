using MassTransit.Configuration;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sync.Outbox;

namespace MassTransit;

public static class OutboxEndpointExtensions
{
    /// <summary>
    /// Puts every consumer and saga of this endpoint behind the Postgres inbox and outbox of
    /// <typeparamref name="TDbContext"/> (registered with AddSyncOutbox): a redelivered message is
    /// recognised and does nothing, and what the consumer sends commits with its data. MassTransit's
    /// own filter runs the phases; Sync supplies the storage.
    /// </summary>
    public static void UseSyncOutbox<TDbContext>(this IReceiveEndpointConfigurator endpoint, IRegistrationContext context)
        where TDbContext : DbContext
    {
        var options = context.GetRequiredService<IOptions<OutboxOptions>>().Value;
        var observer = new OutboxConsumePipeSpecificationObserver<TDbContext>(endpoint, context)
        {
            MessageDeliveryLimit = options.MessageDeliveryLimit,
            MessageDeliveryTimeout = options.SendTimeout,
        };
        endpoint.ConnectConsumerConfigurationObserver(observer);
        endpoint.ConnectSagaConfigurationObserver(observer);
    }
}
