using MassTransit;
using Sync.Contracts;

namespace Sync.Extractor;

internal sealed class RereadRecordsConsumerDefinition : ConsumerDefinition<RereadRecordsConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<RereadRecordsConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // A replay reads at most BeginReplayActivity.Limit keys; one or two at once is plenty.
        endpointConfigurator.ConcurrentMessageLimit = 2;
        endpointConfigurator.PrefetchCount = 2;
        endpointConfigurator.UseStageRetry(consumerConfigurator, context, ExtractorRetry.Source, (RereadRecords reread, Exception exception) =>
            new ExtractionFailed(reread.RunId, reread.JobName, exception.Message));
    }
}
