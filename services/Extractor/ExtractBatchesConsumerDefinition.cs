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
        var retry = ExtractorRetry.Source with
        {
            Redeliver = exception => TransientErrors.IsTransient(exception) || exception is RequestTimeoutException,
            RetryInProcess = exception => TransientErrors.IsWorthRetryingInProcess(exception) || exception is RequestTimeoutException,
        };
        endpointConfigurator.UseStageRetry(consumerConfigurator, context, retry, (ExtractBatches extract, Exception exception) =>
            new ExtractionFailed(extract.RunId, extract.JobName, exception.Message));
        endpointConfigurator.ReportUnreadableMessages(context, (run, reason) => new ExtractionFailed(run.RunId, run.JobName, $"extract: {reason}"));
    }
}
