using MassTransit;
using Sync.Connectors;
using Sync.Contracts;
using Sync.Messaging.Redelivery;

namespace Sync.Transformer;

internal sealed class TransformBatchConsumerDefinition : ConsumerDefinition<TransformBatchConsumer>
{
    private static readonly StageRetry Retry = new(TransientErrors.IsTransient, TransientErrors.IsTransient, retry => retry.Intervals(100, 1000));

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<TransformBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // On the endpoint, not the consumer: the endpoint's limit belongs to its channel, which a
        // reconnect replaces; a consumer limit outlives it, and deliveries stranded by a dropped
        // connection kept all its slots, so the new channel never consumed (Failures/BrokerOutageTests).
        endpointConfigurator.ConcurrentMessageLimit = 4;
        endpointConfigurator.PrefetchCount = 4;
        endpointConfigurator.UseStageRetry(consumerConfigurator, context, Retry, (TransformBatch transform, Exception exception) =>
            new BatchFailed(transform.RunId, transform.JobName, transform.BatchSeq, "transform", exception.Message, transform.Job.Name == transform.JobName ? null : transform.Job.Name));
        endpointConfigurator.ReportUnreadableMessages(context, (run, reason) =>
            run.BatchSeq is { } seq ? new BatchFailed(run.RunId, run.JobName, seq, "transform", reason, run.Stream) : null);
    }
}
