using MassTransit;

namespace Sync.Extractor;

internal sealed class CheckJobSchemaConsumerDefinition : ConsumerDefinition<CheckJobSchemaConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<CheckJobSchemaConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // A check reads catalogs only; an unreachable database is a finding, not a failure. An
        // exception faults the request for the operator to see and repeat, without redelivery.
        endpointConfigurator.ConcurrentMessageLimit = 4;
    }
}
