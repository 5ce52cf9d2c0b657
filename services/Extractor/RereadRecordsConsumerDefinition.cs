using MassTransit;
using Sync.Connectors;
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
        endpointConfigurator.UseSyncRedelivery(context, TransientErrors.IsTransient, (consume, exception) =>
            consume.TryGetMessage<RereadRecords>(out var reread)
                ? consume.Publish(new ExtractionFailed(reread.Message.RunId, reread.Message.JobName, exception.Message))
                : Task.CompletedTask);
        consumerConfigurator.UseMessageRetry(retry =>
        {
            retry.Exponential(3, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(2));
            retry.Handle<Exception>(TransientErrors.IsWorthRetryingInProcess);
        });
    }
}
