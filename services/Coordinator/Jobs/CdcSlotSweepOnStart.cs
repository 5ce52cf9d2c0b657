namespace Sync.Coordinator.Jobs;

/// <summary>
/// At start-up (when the jobs folder is read) drops the recorded slots of cdc jobs whose files are
/// gone (<see cref="CdcSlotCleanup"/>). It runs in the background, so a source that does not answer
/// delays nothing; what it could not drop is tried again at the next start, or with
/// DELETE /api/jobs/{name}/cdc.
/// </summary>
internal sealed partial class CdcSlotSweepOnStart(IServiceScopeFactory scopes, JobCatalog jobs, ILogger<CdcSlotSweepOnStart> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var defined = jobs.All.Select(j => j.Name).ToHashSet(StringComparer.Ordinal);
            await scope.ServiceProvider.GetRequiredService<CdcSlotCleanup>().RemoveOrphansAsync(defined, null, stoppingToken);
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            // The records stay; the next start tries again.
            LogSweepFailed(exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not drop the replication slots of removed cdc jobs; the next start tries again")]
    private partial void LogSweepFailed(Exception exception);
}
