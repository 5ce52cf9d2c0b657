using MassTransit;
using Sync.Contracts;

namespace Sync.Loader;

internal sealed class SweepDeletesConsumerDefinition : ConsumerDefinition<SweepDeletesConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<SweepDeletesConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // One sweep is one large statement; two at once would only compete for the destination.
        endpointConfigurator.ConcurrentMessageLimit = 1;
        endpointConfigurator.PrefetchCount = 2;
        endpointConfigurator.UseStageRetry(consumerConfigurator, context, LoaderRetry.Destination, (SweepDeletes sweep, Exception exception) =>
            new BatchFailed(sweep.RunId, sweep.JobName, -1, "sweep", exception.Message));
    }
}
