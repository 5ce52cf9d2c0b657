using MassTransit;
using Npgsql;
using Sync.Connectors;
using Sync.Connectors.Postgres;

namespace Sync.Loader;

internal sealed class LoadBatchConsumerDefinition : ConsumerDefinition<LoadBatchConsumer>
{
    public LoadBatchConsumerDefinition()
    {
        // Batches of one run touch distinct keys, so loading several at once does not contend.
        ConcurrentMessageLimit = 4;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<LoadBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        endpointConfigurator.PrefetchCount = 8;
        endpointConfigurator.UseMessageRetry(retry =>
        {
            retry.Exponential(6, TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(1));
            retry.Ignore<DestinationSchemaException>();
            retry.Ignore<UnknownConnectionException>();
            // A unique violation on the bookkeeping row means a concurrent delivery applied the
            // batch first: the retry finds its row and reports its counts.
            retry.Ignore<PostgresException>(exception => !exception.IsTransient && exception.SqlState != PostgresErrorCodes.UniqueViolation);
        });
    }
}
