using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Connectors;
using Sync.Connectors.Code;
using Sync.Connectors.Files;
using Sync.Connectors.Http;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Cdc;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.ServiceDefaults;

namespace Sync.Extractor;

/// <summary>
/// Reads a run's rows and publishes them as batches, several sends in flight at once (publisher
/// confirms make each one durable), then reports how many batches there were and the last position.
/// While it reads, an <see cref="ExtractionHeartbeat"/> tells the Coordinator the run is alive.
/// </summary>
internal sealed partial class ExtractBatchesConsumer(PostgresSource source, HttpSource httpSource, FilesSource filesSource, PostgresChangeSource changeSource, CodeSource codeSource, ILogger<ExtractBatchesConsumer> logger) : IConsumer<ExtractBatches>
{
    private const int SendsInFlight = 16;

    public async Task Consume(ConsumeContext<ExtractBatches> context)
    {
        var message = context.Message;
        var extractionId = NewId.NextGuid();
        var inFlight = new Queue<Task>();
        var batchSeq = 0;
        await using var heartbeat = new ExtractionHeartbeat(context, extractionId, logger);
        try
        {
            async ValueTask PublishAsync(RecordBatch batch, IReadOnlyList<RejectedRecord> rejected, CancellationToken cancellationToken)
            {
                batchSeq++;
                inFlight.Enqueue(context.Publish(
                    new TransformBatch(message.RunId, message.JobName, extractionId, batchSeq, message.Job, batch, message.Fence, rejected.Count == 0 ? null : rejected),
                    cancellationToken));
                SyncTelemetry.RowsExtracted.Add(batch.RowCount, SyncTelemetry.JobTag(message.JobName));
                heartbeat.Add(batch.RowCount);
                while (inFlight.Count >= SendsInFlight)
                {
                    await inFlight.Dequeue();
                }
            }

            var summary = message.Job.Source.Kind switch
            {
                "postgres" when message.Job.Mode == SyncMode.Cdc => await changeSource.ExtractAsync(message.Job, message.After, message.Fence, (batch, _, ct) => PublishAsync(batch, [], ct), context.CancellationToken),
                "http" => await httpSource.ExtractAsync(message.Job, message.After, PublishAsync, context.CancellationToken),
                "files" => await filesSource.ExtractAsync(message.Job, message.After, PublishAsync, context.CancellationToken),
                "code" => await codeSource.ExtractAsync(message.Job, message.After, PublishAsync, context.CancellationToken),
                _ => await source.ExtractAsync(message.Job, message.After, (batch, _, ct) => PublishAsync(batch, [], ct), context.CancellationToken),
            };

            await Task.WhenAll(inFlight);
            await context.Publish(new ExtractionCompleted(
                message.RunId, message.JobName, extractionId, summary.BatchCount, summary.RowCount, summary.High));
            LogExtracted(summary.RowCount, summary.BatchCount);
        }
        catch (CdcSlotTakenException exception)
        {
            // A duplicate of a first cdc run whose slot another extraction made: the run goes on with
            // that one's batches (or has ended); this one publishes nothing and is done.
            LogDuplicate(exception.Message);
        }
        catch (Exception exception) when (exception is SourceSchemaException or UnknownConnectionException)
        {
            // The job does not fit its source: retrying cannot help, the run fails with the reason.
            LogRefused(exception.Message);
            await context.Publish(new ExtractionFailed(message.RunId, message.JobName, exception.Message));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Extracted {Rows} rows in {Batches} batches")]
    private partial void LogExtracted(long rows, int batches);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Extraction stopped without a result: {Reason}")]
    private partial void LogDuplicate(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Extraction refused: {Reason}")]
    private partial void LogRefused(string reason);
}
