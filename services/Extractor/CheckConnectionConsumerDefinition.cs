using MassTransit;

namespace Sync.Extractor;

internal sealed class CheckConnectionConsumerDefinition : ConsumerDefinition<CheckConnectionConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CheckConnectionConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // A check reads catalogs only; an unreachable database is a finding, not a failure. An
        // exception faults the request for the operator to see and repeat, without redelivery.
        endpointConfigurator.ConcurrentMessageLimit = 4;
    }
}
