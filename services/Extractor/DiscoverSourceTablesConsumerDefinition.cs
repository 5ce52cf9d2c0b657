using MassTransit;

namespace Sync.Extractor;

internal sealed class DiscoverSourceTablesConsumerDefinition : ConsumerDefinition<DiscoverSourceTablesConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<DiscoverSourceTablesConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // A catalog read; an unreachable database is answered as a problem. An exception faults the
        // request for the caller to see and repeat, without redelivery.
        endpointConfigurator.ConcurrentMessageLimit = 4;
    }
}
