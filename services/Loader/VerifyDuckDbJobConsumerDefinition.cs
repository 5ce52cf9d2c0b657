using MassTransit;

namespace Sync.Loader;

internal sealed class VerifyDuckDbJobConsumerDefinition : ConsumerDefinition<VerifyDuckDbJobConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<VerifyDuckDbJobConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // A verification scans both sides in full and holds the file's connection meanwhile (loads into
        // that file wait); one at a time. A failure is the requester's to see, as at the Extractor.
        endpointConfigurator.ConcurrentMessageLimit = 1;
        endpointConfigurator.PrefetchCount = 1;
    }
}
