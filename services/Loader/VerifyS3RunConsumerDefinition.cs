using MassTransit;

namespace Sync.Loader;

internal sealed class VerifyS3RunConsumerDefinition : ConsumerDefinition<VerifyS3RunConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<VerifyS3RunConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // It reads every object of the run; one at a time. A failure (S3 down) is the requester's to see.
        endpointConfigurator.ConcurrentMessageLimit = 1;
        endpointConfigurator.PrefetchCount = 1;
    }
}
