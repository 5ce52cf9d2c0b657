using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sync.Messaging.Redelivery;

namespace MassTransit;

public static class RedeliveryExtensions
{
    /// <summary>
    /// Redelivers this endpoint's messages with growing delays (the job's <c>retry: redelivery:</c>, else <see cref="DelayedRedeliveryOptions"/>)
    /// while <paramref name="isTransient"/> says the failure may pass, then calls
    /// <paramref name="onGivingUp"/> and lets the message go to the error queue. Quick retries
    /// belong on the consumer (consumerConfigurator.UseMessageRetry), which runs inside this
    /// endpoint filter; an endpoint-level UseMessageRetry would wrap it instead. MassTransit's own
    /// Fault events are turned off for the endpoint: <paramref name="onGivingUp"/> publishes Sync's.
    /// </summary>
    public static void UseSyncRedelivery(
        this IReceiveEndpointConfigurator endpoint,
        IRegistrationContext context,
        Func<Exception, bool> isTransient,
        Func<ConsumeContext, Exception, Task> onGivingUp)
    {
        var defaults = context.GetRequiredService<IOptions<DelayedRedeliveryOptions>>().Value.ParsedIntervals();
        endpoint.PublishFaults = false;
        endpoint.UseFilter(new RedeliveryFilter(context.GetRequiredService<DelayQueues>(), defaults, isTransient, onGivingUp));
    }
}
