using MassTransit;
using Sync.Contracts;
using Sync.ServiceDefaults;

namespace Sync.Transformer;

internal sealed class TransformBatchConsumer(BatchTransforms transforms) : IConsumer<TransformBatch>
{
    public async Task Consume(ConsumeContext<TransformBatch> context)
    {
        var message = context.Message;
        var outcome = transforms.Apply(message.Job, message.Batch);
        SyncTelemetry.RowsTransformed.Add(outcome.Batch.RowCount);
        await context.Publish(new LoadBatch(
            message.RunId, message.JobName, message.ExtractionId, message.BatchSeq, message.Job, outcome.Batch,
            outcome.Rejected.Count, outcome.Rejected.Count == 0 ? null : outcome.Rejected, message.Fence));
    }
}
