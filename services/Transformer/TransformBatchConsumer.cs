using MassTransit;
using Sync.Contracts;
using Sync.ServiceDefaults;

namespace Sync.Transformer;

internal sealed class TransformBatchConsumer(BatchTransforms transforms) : IConsumer<TransformBatch>
{
    public async Task Consume(ConsumeContext<TransformBatch> context)
    {
        var message = context.Message;
        var output = transforms.Apply(message.Job, message.Batch);
        SyncTelemetry.RowsTransformed.Add(output.RowCount);
        await context.Publish(new LoadBatch(
            message.RunId, message.JobName, message.ExtractionId, message.BatchSeq, message.Job, output, Failed: 0, message.Fence));
    }
}
