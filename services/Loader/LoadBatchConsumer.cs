using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sync.Batches;
using Sync.Connectors;
using Sync.Connectors.Postgres;
using Sync.Contracts;
using Sync.Messaging;
using Sync.ServiceDefaults;

namespace Sync.Loader;

/// <summary>Applies a batch to the destination and reports its counts; a batch applied before reports its first counts again.</summary>
internal sealed partial class LoadBatchConsumer(BatchDestinations destination, BatchMemory memory, ILogger<LoadBatchConsumer> logger) : IConsumer<LoadBatch>
{
    private const string Stage = "load";

    public async Task Consume(ConsumeContext<LoadBatch> context)
    {
        var message = context.Message;
        var started = Stopwatch.GetTimestamp();
        LoadResult result;
        try
        {
            // The rows and what the load makes of them count against the service's batch memory while it loads.
            using var lease = await memory.AcquireAsync(message.Batch.Rows.Length, context.CancellationToken);
            result = await destination.LoadAsync(message, context.CancellationToken);
        }
        catch (ChangeBatchOutOfOrderException)
        {
            // Its predecessor is still queued (or on its way back): this copy goes to the back of the
            // queue, and the delivery is done. A copy that arrives after all is absorbed by sync.applied_batches.
            LogRequeued();
            await context.Publish(message, context.CancellationToken);
            return;
        }

        var elapsed = Stopwatch.GetElapsedTime(started);
        SyncTelemetry.BatchLoadDuration.Record(elapsed.TotalMilliseconds, SyncTelemetry.JobTag(message.JobName));
        if (result.Superseded)
        {
            // Its run has ended (a later one has started), so nobody waits for this batch's counts.
            SyncTelemetry.BatchesSuperseded.Add(1);
            LogSuperseded(message.Fence);
            return;
        }

        if (result.Replayed)
        {
            LogReplayed();
        }
        else
        {
            SyncTelemetry.RowsLoaded.Add(result.Rows, SyncTelemetry.JobTag(message.JobName));
            LogLoaded(result.Rows, result.Inserted, result.Updated, result.Deleted, result.Skipped, (long)elapsed.TotalMilliseconds);
            if (result.Rejected.Count > 0)
            {
                LogRejected(result.Rejected.Count, result.Rows);
            }
        }

        // Rejections are kept by row index only; the records come from the batch itself, which a
        // redelivery carries again, so a replayed batch reports the same records.
        var rejected = new List<RejectedRecord>(message.Rejected ?? []);
        rejected.AddRange(result.Rejected.Select(r => new RejectedRecord(Stage, r.RowIndex, r.Error, OneRow(message.Batch, r.RowIndex))));
        // None travels as null: a message without rejects stays equal to its copies (record equality).
        var reported = rejected.Count == 0 ? null : rejected;
        await context.Publish(new BatchLoaded(
            message.RunId, message.JobName, message.ExtractionId, message.BatchSeq,
            result.Rows, result.Inserted, result.Updated, result.Skipped, message.Failed + result.Rejected.Count, reported, result.Deleted, result.SchemaChanges,
            message.Job.Name == message.JobName ? null : message.Job.Name));
    }

    private static RecordBatch OneRow(RecordBatch batch, int rowIndex)
    {
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        for (var i = 0; reader.TryRead(fields, out _, out var tuple); i++)
        {
            if (i == rowIndex)
            {
                return new RecordBatch(batch.Columns, 1, batch.Rows[tuple]);
            }
        }

        throw new InvalidOperationException($"The batch has no row {rowIndex}.");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The destination refused {Rejected} record(s) of the batch; {Applied} loaded, the refused go to the dead letters")]
    private partial void LogRejected(int rejected, int applied);

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch of run fence {Fence} refused: a later run of the job has loaded into the destination")]
    private partial void LogSuperseded(long fence);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Loaded {Rows} rows ({Inserted} inserted, {Updated} updated, {Deleted} deleted, {Skipped} skipped) in {ElapsedMs} ms")]
    private partial void LogLoaded(int rows, int inserted, int updated, int deleted, int skipped, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Change batch came before its predecessor; put back at the end of the queue")]
    private partial void LogRequeued();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Batch was applied before; reporting its first counts")]
    private partial void LogReplayed();
}
