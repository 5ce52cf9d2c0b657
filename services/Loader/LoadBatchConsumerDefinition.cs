using MassTransit;
using Sync.Connectors;
using Sync.Contracts;

namespace Sync.Loader;

internal sealed class LoadBatchConsumerDefinition : ConsumerDefinition<LoadBatchConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<LoadBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Batches of one run touch distinct keys, so loading several at once does not contend.
        // On the endpoint, not the consumer: the endpoint's limit belongs to its channel, which a
        // reconnect replaces; a consumer limit outlives it, and deliveries stranded by a dropped
        // connection kept all its slots, so the new channel never consumed (Failures/BrokerOutageTests).
        endpointConfigurator.ConcurrentMessageLimit = 4;
        endpointConfigurator.PrefetchCount = 8;
        endpointConfigurator.UseSyncRedelivery(context, TransientErrors.IsTransient, (consume, exception) =>
            consume.TryGetMessage<LoadBatch>(out var load)
                ? consume.Publish(new BatchFailed(load.Message.RunId, load.Message.JobName, load.Message.BatchSeq, "load", exception.Message))
                : Task.CompletedTask);
        // Database calls retry in the connector's pipeline; this retries only what it did not.
        consumerConfigurator.UseMessageRetry(retry =>
        {
            retry.Exponential(3, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(500));
            retry.Handle<Exception>(TransientErrors.IsWorthRetryingInProcess);
        });
    }
}
