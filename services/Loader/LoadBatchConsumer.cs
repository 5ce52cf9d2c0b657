using System.Diagnostics;
using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Connectors.Postgres;
using Sync.Contracts;
using Sync.ServiceDefaults;

namespace Sync.Loader;

/// <summary>Applies a batch to the destination and reports its counts; a batch applied before reports its first counts again.</summary>
internal sealed partial class LoadBatchConsumer(PostgresDestination destination, ILogger<LoadBatchConsumer> logger) : IConsumer<LoadBatch>
{
    public async Task Consume(ConsumeContext<LoadBatch> context)
    {
        var message = context.Message;
        using var scope = logger.BeginScope(new Dictionary<string, object>
        {
            ["Job"] = message.JobName, ["RunId"] = message.RunId, ["BatchSeq"] = message.BatchSeq,
        });
        var started = Stopwatch.GetTimestamp();
        var result = await destination.LoadAsync(
            message.Job, message.RunId, message.ExtractionId, message.BatchSeq, message.Batch, message.Fence, context.CancellationToken);
        SyncTelemetry.BatchLoadDuration.Record(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
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
            SyncTelemetry.RowsLoaded.Add(result.Rows);
        }

        await context.Publish(new BatchLoaded(
            message.RunId, message.JobName, message.ExtractionId, message.BatchSeq,
            result.Rows, result.Inserted, result.Updated, result.Skipped, message.Failed));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Batch of run fence {Fence} refused: a later run of the job has loaded into the destination")]
    private partial void LogSuperseded(long fence);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Batch was applied before; reporting its first counts")]
    private partial void LogReplayed();
}
