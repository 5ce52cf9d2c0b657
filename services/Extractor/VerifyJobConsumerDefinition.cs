using MassTransit;

namespace Sync.Extractor;

internal sealed class VerifyJobConsumerDefinition : ConsumerDefinition<VerifyJobConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<VerifyJobConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // A verification scans both sides in full; one at a time keeps it from starving extraction.
        // A failure is the requester's to see (the request faults), not worth a redelivery: the
        // operator runs verify again.
        endpointConfigurator.ConcurrentMessageLimit = 1;
        endpointConfigurator.PrefetchCount = 1;
    }
}
