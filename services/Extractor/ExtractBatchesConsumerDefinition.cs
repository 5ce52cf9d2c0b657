using MassTransit;
using Npgsql;

namespace Sync.Extractor;

internal sealed class ExtractBatchesConsumerDefinition : ConsumerDefinition<ExtractBatchesConsumer>
{
    public ExtractBatchesConsumerDefinition()
    {
        // An extraction streams a whole run; a few at once is what a source should bear.
        ConcurrentMessageLimit = 4;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<ExtractBatchesConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = 4;
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Exponential(5, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(2));
            retry.Handle<NpgsqlException>(exception => exception.IsTransient);
            retry.Handle<TimeoutException>();
            retry.Handle<IOException>();
        });
    }
}
