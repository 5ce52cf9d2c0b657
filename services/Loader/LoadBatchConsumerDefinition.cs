using MassTransit;
using Sync.Connectors;
using Sync.Contracts;

namespace Sync.Loader;

internal sealed class LoadBatchConsumerDefinition : ConsumerDefinition<LoadBatchConsumer>
{
    public LoadBatchConsumerDefinition()
    {
        // Batches of one run touch distinct keys, so loading several at once does not contend.
        ConcurrentMessageLimit = 4;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<LoadBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
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
