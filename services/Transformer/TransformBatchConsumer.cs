using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Contracts;
using Sync.Messaging;
using Sync.ServiceDefaults;

namespace Sync.Transformer;

internal sealed partial class TransformBatchConsumer(BatchTransforms transforms, BatchMemory memory, ILogger<TransformBatchConsumer> logger) : IConsumer<TransformBatch>
{
    public async Task Consume(ConsumeContext<TransformBatch> context)
    {
        var message = context.Message;
        // The rows, their transformed copy and the next message count against the service's batch memory until that is sent.
        using var lease = await memory.AcquireAsync(message.Batch.Rows.Length, context.CancellationToken);
        var started = Stopwatch.GetTimestamp();
        var outcome = await transforms.ApplyAsync(message.Job, message.Batch, context.CancellationToken);
        var elapsed = Stopwatch.GetElapsedTime(started);
        SyncTelemetry.BatchTransformDuration.Record(elapsed.TotalMilliseconds, SyncTelemetry.JobTag(message.JobName));
        SyncTelemetry.RowsTransformed.Add(outcome.Batch.RowCount, SyncTelemetry.JobTag(message.JobName));
        TransformerTelemetry.RowsFiltered.Add(outcome.Filtered, SyncTelemetry.JobTag(message.JobName));
        LogTransformed(outcome.Batch.RowCount, outcome.Rejected.Count, (long)elapsed.TotalMilliseconds);
        // Records the Extractor set aside travel on with this stage's own, so the Loader reports them all.
        IReadOnlyList<RejectedRecord> rejected = message.Rejected is { Count: > 0 } extracted ? [.. extracted, .. outcome.Rejected] : outcome.Rejected;
        LoadBatchSize.Check(message, outcome.Batch, rejected);
        await context.Publish(new LoadBatch(
            message.RunId, message.JobName, message.ExtractionId, message.BatchSeq, message.Job, outcome.Batch,
            rejected.Count, rejected.Count == 0 ? null : rejected, message.Fence));
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Transformed {Rows} rows ({Rejected} set aside) in {ElapsedMs} ms")]
    private partial void LogTransformed(int rows, int rejected, long elapsedMs);
}
