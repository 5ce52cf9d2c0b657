using MassTransit;
using Sync.Connectors;
using Sync.Contracts;

namespace Sync.Transformer;

internal sealed class TransformBatchConsumerDefinition : ConsumerDefinition<TransformBatchConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TransformBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // On the endpoint, not the consumer: the endpoint's limit belongs to its channel, which a
        // reconnect replaces; a consumer limit outlives it, and deliveries stranded by a dropped
        // connection kept all its slots, so the new channel never consumed (Failures/BrokerOutageTests).
        endpointConfigurator.ConcurrentMessageLimit = 4;
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
