using MassTransit;
using Sync.Contracts;
using Sync.ServiceDefaults;

namespace Sync.Transformer;

internal sealed class TransformBatchConsumer(BatchTransforms transforms) : IConsumer<TransformBatch>
{
    public async Task Consume(ConsumeContext<TransformBatch> context)
    {
        var message = context.Message;
        var outcome = await transforms.ApplyAsync(message.Job, message.Batch, context.CancellationToken);
        SyncTelemetry.RowsTransformed.Add(outcome.Batch.RowCount);
        TransformerTelemetry.RowsFiltered.Add(outcome.Filtered);
        // Records the Extractor set aside travel on with this stage's own, so the Loader reports them all.
        IReadOnlyList<RejectedRecord> rejected = message.Rejected is { Count: > 0 } extracted ? [.. extracted, .. outcome.Rejected] : outcome.Rejected;
        await context.Publish(new LoadBatch(
            message.RunId, message.JobName, message.ExtractionId, message.BatchSeq, message.Job, outcome.Batch,
            rejected.Count, rejected.Count == 0 ? null : rejected, message.Fence));
    }
}
