using MassTransit;

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
        endpointConfigurator.UseStageRetry(consumerConfigurator, context, LoaderRetry.Destination, (_, _) => Task.CompletedTask);
    }
}
