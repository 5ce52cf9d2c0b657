using MassTransit;
using Sync.Connectors;
using Sync.Contracts;

namespace Sync.Extractor;

internal sealed class ExtractBatchesConsumerDefinition : ConsumerDefinition<ExtractBatchesConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ExtractBatchesConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // An extraction streams a whole run; a few at once is what a source should bear.
        // On the endpoint, not the consumer: the endpoint's limit belongs to its channel, which a
        // reconnect replaces; a consumer limit outlives it, and deliveries stranded by a dropped
        // connection kept all its slots, so the new channel never consumed (Failures/BrokerOutageTests).
        endpointConfigurator.ConcurrentMessageLimit = 4;
        endpointConfigurator.PrefetchCount = 4;
        // A Coordinator that did not answer BeginExtraction in time (restarting, say) is worth waiting for.
        endpointConfigurator.UseSyncRedelivery(context, exception => TransientErrors.IsTransient(exception) || exception is RequestTimeoutException, (consume, exception) =>
            consume.TryGetMessage<ExtractBatches>(out var extract)
                ? consume.Publish(new ExtractionFailed(extract.Message.RunId, extract.Message.JobName, exception.Message))
                : Task.CompletedTask);
        // Database calls retry in the connector's pipeline; this retries only what it did not.
        consumerConfigurator.UseMessageRetry(retry =>
        {
            retry.Exponential(3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2));
            retry.Handle<Exception>(exception => TransientErrors.IsWorthRetryingInProcess(exception) || exception is RequestTimeoutException);
        });
    }
}
