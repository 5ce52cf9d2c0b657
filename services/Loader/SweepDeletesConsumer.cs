using MassTransit;
using Microsoft.Extensions.Logging;
using Sync.Connectors.Postgres;
using Sync.Contracts;

namespace Sync.Loader;

/// <summary>Sweeps a full-refresh run's destination (rows the run did not load go) and reports how many rows went.</summary>
internal sealed partial class SweepDeletesConsumer(PostgresDeleteSweep sweep, ILogger<SweepDeletesConsumer> logger) : IConsumer<SweepDeletes>
{
    public async Task Consume(ConsumeContext<SweepDeletes> context)
    {
        var message = context.Message;
        using var scope = logger.BeginScope(new Dictionary<string, object> { ["Job"] = message.JobName, ["RunId"] = message.RunId });
        var result = await sweep.SweepAsync(message.Job, message.RunId, message.Fence, context.CancellationToken);
        if (result.Superseded)
        {
            LogSuperseded(message.Fence);
        }
        else
        {
            LogSwept(result.Deleted, message.Job.Destination.Deletes.ToString(), result.Replayed);
        }

        await context.Publish(new DeletesSwept(message.RunId, message.JobName, result.Deleted, result.Superseded));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Full refresh swept {Deleted} row(s) ({Deletes}); swept before: {Replayed}")]
    private partial void LogSwept(long deleted, string deletes, bool replayed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Sweep of run fence {Fence} skipped: a later run of the job has loaded into the destination")]
    private partial void LogSuperseded(long fence);
}
