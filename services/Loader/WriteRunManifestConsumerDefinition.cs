using MassTransit;
using Sync.Connectors;

namespace Sync.Loader;

internal sealed class WriteRunManifestConsumerDefinition : ConsumerDefinition<WriteRunManifestConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<WriteRunManifestConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.ConcurrentMessageLimit = 2;
        // S3 unreachable: the run is complete already, so the manifest waits for redelivery, then the error queue.
        endpointConfigurator.UseSyncRedelivery(context, TransientErrors.IsTransient, (_, _) => Task.CompletedTask);
        consumerConfigurator.UseMessageRetry(retry =>
        {
            retry.Exponential(3, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(500));
            retry.Handle<Exception>(TransientErrors.IsWorthRetryingInProcess);
        });
    }
}
