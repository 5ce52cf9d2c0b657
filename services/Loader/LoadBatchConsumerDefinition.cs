using MassTransit;
using Sync.Contracts;

namespace Sync.Loader;

internal sealed class LoadBatchConsumerDefinition : ConsumerDefinition<LoadBatchConsumer>
{
    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<LoadBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // Batches of one run touch distinct keys, so loading several at once does not contend.
        // On the endpoint, not the consumer: the endpoint's limit belongs to its channel, which a
        // reconnect replaces; a consumer limit outlives it, and deliveries stranded by a dropped
        // connection kept all its slots, so the new channel never consumed (Failures/BrokerOutageTests).
        endpointConfigurator.ConcurrentMessageLimit = 4;
        endpointConfigurator.PrefetchCount = 4;
        endpointConfigurator.UseStageRetry(consumerConfigurator, context, LoaderRetry.Destination, (LoadBatch load, Exception exception) =>
            new BatchFailed(load.RunId, load.JobName, load.BatchSeq, "load", exception.Message, load.Job.Name == load.JobName ? null : load.Job.Name));
        endpointConfigurator.ReportUnreadableMessages(context, (run, reason) =>
            run.BatchSeq is { } seq ? new BatchFailed(run.RunId, run.JobName, seq, "load", reason, run.Stream) : null);
    }
}
