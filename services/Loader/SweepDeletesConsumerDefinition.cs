using MassTransit;
using Sync.Connectors;
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
        endpointConfigurator.UseSyncRedelivery(context, TransientErrors.IsTransient, (consume, exception) =>
            consume.TryGetMessage<SweepDeletes>(out var sweep)
                ? consume.Publish(new BatchFailed(sweep.Message.RunId, sweep.Message.JobName, -1, "sweep", exception.Message))
                : Task.CompletedTask);
        consumerConfigurator.UseMessageRetry(retry =>
        {
            retry.Exponential(3, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(500));
            retry.Handle<Exception>(TransientErrors.IsWorthRetryingInProcess);
        });
    }
}
