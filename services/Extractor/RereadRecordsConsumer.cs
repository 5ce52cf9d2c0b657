using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Connectors;
using Sync.Connectors.Postgres;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Extractor;

/// <summary>
/// Reads again, by key, the rows of dead letters a replay run sends back, and publishes each as
/// the run's batch for it: the row as the source has it now, its delete when it is gone and the job
/// deletes, or an empty batch when it is gone and the job keeps destination rows. Publishing the
/// same batches again (a redelivery) is harmless: the Loader applies each batch of a run once.
/// </summary>
internal sealed partial class RereadRecordsConsumer(PostgresSource source, ILogger<RereadRecordsConsumer> logger) : IConsumer<RereadRecords>
{
    public async Task Consume(ConsumeContext<RereadRecords> context)
    {
        var message = context.Message;
        try
        {
            var rows = await source.ReadKeysAsync(message.Job, [.. message.Keys.Select(k => k.Values)], context.CancellationToken);
            var gone = 0;
            for (var i = 0; i < rows.Count; i++)
            {
                var batch = rows[i];
                if (batch.RowCount == 0)
                {
                    gone++;
                    if (message.Job.Destination.Deletes != DeleteMode.Keep)
                    {
                        batch = PostgresSource.KeyDelete(message.Job, batch.Columns, message.Keys[i].Values);
                    }
                }

                await context.Publish(
                    new TransformBatch(message.RunId, message.JobName, message.ExtractionId, message.Keys[i].BatchSeq, message.Job, batch, message.Fence),
                    context.CancellationToken);
            }

            LogReread(rows.Count, gone);
        }
        catch (Exception exception) when (exception is SourceSchemaException or UnknownConnectionException)
        {
            LogRefused(exception.Message);
            await context.Publish(new ExtractionFailed(message.RunId, message.JobName, exception.Message));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Read {Keys} replayed keys again from the source; {Gone} are gone")]
    private partial void LogReread(int keys, int gone);

    [LoggerMessage(Level = LogLevel.Error, Message = "Replay read refused: {Reason}")]
    private partial void LogRefused(string reason);
}
