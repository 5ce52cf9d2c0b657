using MassTransit;

namespace Sync.Transformer;

internal sealed class TransformBatchConsumerDefinition : ConsumerDefinition<TransformBatchConsumer>
{
    public TransformBatchConsumerDefinition()
    {
        ConcurrentMessageLimit = 4;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TransformBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = 16;
        endpointConfigurator.UseMessageRetry(retry => retry.Intervals(100, 1000));
    }
}
