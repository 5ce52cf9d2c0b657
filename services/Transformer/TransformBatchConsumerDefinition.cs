using MassTransit;
using Sync.Connectors;
using Sync.Contracts;

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
        endpointConfigurator.UseSyncRedelivery(context, TransientErrors.IsTransient, (consume, exception) =>
            consume.TryGetMessage<TransformBatch>(out var transform)
                ? consume.Publish(new BatchFailed(transform.Message.RunId, transform.Message.JobName, transform.Message.BatchSeq, "transform", exception.Message))
                : Task.CompletedTask);
        consumerConfigurator.UseMessageRetry(retry =>
        {
            retry.Intervals(100, 1000);
            retry.Handle<Exception>(TransientErrors.IsTransient);
        });
    }
}
