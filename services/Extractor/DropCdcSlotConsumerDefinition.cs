using MassTransit;

namespace Sync.Extractor;

internal sealed class DropCdcSlotConsumerDefinition : ConsumerDefinition<DropCdcSlotConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<DropCdcSlotConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // No retry or redelivery: a slot that cannot be dropped is answered "kept" and the
        // Coordinator tries again later; a request nobody answered in time expires in the queue.
        endpointConfigurator.ConcurrentMessageLimit = 1;
    }
}
