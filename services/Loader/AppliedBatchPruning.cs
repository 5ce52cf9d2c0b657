using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Sync.Connectors;
using Sync.Connectors.Postgres;

namespace Sync.Loader;

/// <summary>Deletes applied-batch records past their retention in every destination this Loader has loaded into.</summary>
internal sealed partial class AppliedBatchPruning(
    PostgresDestination destination,
    ConnectionCatalog connections,
    IOptions<LoaderOptions> options,
    ILogger<AppliedBatchPruning> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var timer = new PeriodicTimer(settings.CleanupInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            foreach (var name in destination.LoadedConnections)
            {
                try
                {
                    var deleted = await AppliedBatchRetention.DeleteOlderThanAsync(
                        connections.Get(name), settings.AppliedBatchRetention, settings.CleanupSliceSize, stoppingToken);
                    if (deleted > 0)
                    {
                        LogDeleted(deleted, name);
                    }
                }
                catch (Exception exception) when (TransientErrors.IsTransient(exception))
                {
                    // The next tick tries again; nothing is lost by a late cleanup.
                    LogFailed(exception, name);
                }
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Forgot {Deleted} applied batches past their retention in {Connection}")]
    private partial void LogDeleted(long deleted, string connection);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Cleaning applied batches in {Connection} failed; trying again at the next interval")]
    private partial void LogFailed(Exception exception, string connection);
}
