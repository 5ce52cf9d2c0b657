namespace Sync.Coordinator.Jobs;

/// <summary>
/// At start-up (when the jobs folder is read) drops the recorded slots of cdc jobs whose files are
/// gone (<see cref="CdcSlotCleanup"/>). A job whose file is there but invalid keeps its slot, and so
/// does every job while an invalid file's job name cannot be read. It runs in the background, so a source that does not answer
/// delays nothing; what it could not drop is tried again at the next start, or with
/// DELETE /api/jobs/{name}/cdc.
/// </summary>
internal sealed partial class CdcSlotSweepOnStart(IServiceScopeFactory scopes, JobCatalog jobs, ILogger<CdcSlotSweepOnStart> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (jobs.HasUnnamedInvalidFile)
        {
            // That file may be a cdc job's whose slot must outlive a typo; the next start tries again.
            LogSweepSkipped(string.Join(", ", jobs.Invalid.Where(f => f.Name is null).Select(f => f.File)));
            return;
        }

        try
        {
            await using var scope = scopes.CreateAsyncScope();
            await scope.ServiceProvider.GetRequiredService<CdcSlotCleanup>().RemoveOrphansAsync(jobs.ClaimedNames, null, stoppingToken);
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            // The records stay; the next start tries again.
            LogSweepFailed(exception);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replication slots of removed cdc jobs are kept: the job name of {Files} cannot be read, so any of them may be that file's; fix it and restart")]
    private partial void LogSweepSkipped(string files);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not drop the replication slots of removed cdc jobs; the next start tries again")]
    private partial void LogSweepFailed(Exception exception);
}
