using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Batches;
using Sync.Connectors;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Cdc;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Messaging;
using Sync.ServiceDefaults;

namespace Sync.Extractor;

/// <summary>
/// Reads a run's rows and publishes them as batches, several sends in flight at once (publisher
/// confirms make each one durable), then reports how many batches there were and the last position.
/// Before it publishes anything, the extraction takes a fence of its own from the Coordinator
/// (<see cref="BeginExtraction"/>), which its batches carry: a batch of an earlier extraction of the
/// run that a destination meets later is refused there.
/// While it reads, an <see cref="ExtractionHeartbeat"/> tells the Coordinator the run is alive.
/// </summary>
internal sealed partial class ExtractBatchesConsumer(
    ConnectorRegistry connectors,
    IRequestClient<BeginExtraction> beginExtraction,
    BatchMemory memory,
    ILogger<ExtractBatchesConsumer> logger) : IConsumer<ExtractBatches>
{
    private const int SendsInFlight = 16;

    private static async Task SentAsync(Task publish, BatchMemory.Lease lease)
    {
        using (lease)
        {
            await publish;
        }
    }

    public async Task Consume(ConsumeContext<ExtractBatches> context)
    {
        var message = context.Message;
        var extractionId = NewId.NextGuid();
        var inFlight = new Queue<Task>();
        var batchSeq = 0;
        long? fence = message.Fence == 0 ? 0 : null;
        await using var heartbeat = new ExtractionHeartbeat(context, extractionId, logger);
        try
        {
            async ValueTask<long> FenceAsync(CancellationToken cancellationToken)
            {
                if (fence is null)
                {
                    var response = await beginExtraction.GetResponse<ExtractionFenced>(new BeginExtraction(message.RunId, message.JobName, extractionId, message.KeyRange?.Index), cancellationToken);
                    fence = response.Message.Fence > 0 ? response.Message.Fence : throw new RunEndedException();
                }

                return fence.Value;
            }

            // A batch of a cdc job with streams travels with its stream's job, which names its destination table.
            async ValueTask PublishAsync(RecordBatch batch, IReadOnlyList<RejectedRecord> rejected, JobSpec job, CancellationToken cancellationToken)
            {
                var batchFence = await FenceAsync(cancellationToken);
                // Its rows count against the service's batch memory until the broker has confirmed it.
                var lease = await memory.AcquireAsync(batch.Rows.Length, cancellationToken);
                batchSeq++;
                inFlight.Enqueue(SentAsync(
                    context.Publish(
                        new TransformBatch(message.RunId, message.JobName, extractionId, batchSeq, job, batch, batchFence, rejected.Count == 0 ? null : rejected),
                        cancellationToken),
                    lease));
                SyncTelemetry.RowsExtracted.Add(batch.RowCount, SyncTelemetry.JobTag(message.JobName));
                heartbeat.Add(batch.RowCount);
                while (inFlight.Count >= SendsInFlight)
                {
                    await inFlight.Dequeue();
                }
            }

            var kind = message.Job.Source.Kind;
            if (message is { KeyRange: null, Range: null, After: null, Job: { Mode: SyncMode.Incremental or SyncMode.FullRefresh, Source.RangeSize: > 0 } }
                && connectors.Source(kind) is IKeyRangeSource planner
                && await planner.PlanRangesAsync(message.RunId, message.Job, context.CancellationToken) is { } plan)
            {
                // The ranges go out from the Coordinator, which records each one with the run.
                await context.Publish(plan);
                LogPlanned(plan.Ranges.Count);
                return;
            }

            if (message.KeyRange is not null)
            {
                // Before reading: the Coordinator counts the read of the range, or refuses one already extracted.
                await FenceAsync(context.CancellationToken);
            }

            var summary = message switch
            {
                { KeyRange: { } keyRange } => connectors.Source(kind) is IKeyRangeSource ranges
                    ? await ranges.ExtractKeyRangeAsync(message.Job, keyRange, (batch, rejected, ct) => PublishAsync(batch, rejected, message.Job, ct), context.CancellationToken)
                    : throw new SourceSchemaException($"Job \"{message.JobName}\" reads a {kind.ToString().ToLowerInvariant()} source, which is not read in key ranges."),
                { Range: { } range } => connectors.Source(kind) is IRangeSource ranged
                    ? await ranged.ExtractRangeAsync(message.Job, range, (batch, rejected, ct) => PublishAsync(batch, rejected, message.Job, ct), context.CancellationToken)
                    : throw new SourceSchemaException($"A backfill reads a slice of a PostgreSQL table or query; job \"{message.JobName}\" reads a {kind.ToString().ToLowerInvariant()} source."),
                { Job: { Mode: SyncMode.Cdc, Streams: not null } } => await connectors.ChangeSource(kind).ExtractStreamsAsync(
                    message.Job, message.After, message.Fence, (stream, batch, ct) => PublishAsync(batch, [], stream, ct), context.CancellationToken),
                { Job.Mode: SyncMode.Cdc } => await connectors.ChangeSource(kind).ExtractAsync(
                    message.Job, message.After, message.Fence, (batch, rejected, ct) => PublishAsync(batch, rejected, message.Job, ct), context.CancellationToken),
                _ => await connectors.Source(kind).ExtractAsync(message.Job, message.After, (batch, rejected, ct) => PublishAsync(batch, rejected, message.Job, ct), context.CancellationToken),
            };

            await Task.WhenAll(inFlight);
            var completedFence = await FenceAsync(context.CancellationToken);
            await context.Publish(new ExtractionCompleted(
                message.RunId, message.JobName, extractionId, summary.BatchCount, summary.RowCount, summary.High, completedFence, message.KeyRange?.Index));
            LogExtracted(summary.RowCount, summary.BatchCount);
        }
        catch (RunEndedException)
        {
            // A redelivered ExtractBatches of a run that has every batch already, or has ended.
            LogDuplicate("the run needs no further extraction");
        }
        catch (CdcSlotTakenException exception)
        {
            // A duplicate of a first cdc run whose slot another extraction made: the run goes on with
            // that one's batches (or has ended); this one publishes nothing and is done.
            LogDuplicate(exception.Message);
        }
        catch (Exception exception) when (exception is SourceSchemaException or UnknownConnectionException or OpenTransactionsException or BatchTooLargeException)
        {
            // The job does not fit its source, a row is too large for any message, or transactions open on it outlasted the wait: retrying
            // this message cannot help, the run fails with the reason and the watermark stays.
            LogRefused(exception.Message);
            await context.Publish(new ExtractionFailed(message.RunId, message.JobName, exception.Message));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Extracted {Rows} rows in {Batches} batches")]
    private partial void LogExtracted(long rows, int batches);

    [LoggerMessage(Level = LogLevel.Information, Message = "Planned the load in {Ranges} key ranges")]
    private partial void LogPlanned(int ranges);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Extraction stopped without a result: {Reason}")]
    private partial void LogDuplicate(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Extraction refused: {Reason}")]
    private partial void LogRefused(string reason);

    /// <summary>The Coordinator gave the extraction no fence: its run needs none.</summary>
    private sealed class RunEndedException() : Exception("The run needs no further extraction.");
}
