using Microsoft.Extensions.Options;

namespace Sync.Coordinator.Jobs;

/// <summary>
/// Once the Coordinator has started (its bus included: the Extractor's answers come back on it)
/// drops the recorded slots of cdc jobs whose files are gone (<see cref="CdcSlotCleanup"/>). A job
/// whose file is there but invalid keeps its slot, and so does every job while an invalid file's job
/// name cannot be read. It runs in the background, so a source that does not answer delays nothing;
/// what it could not drop is tried again after <see cref="CoordinatorOptions.CdcSlotCleanupRetry"/>,
/// doubling up to 10 minutes, until nothing is left — a kept slot holds WAL on the source — or at
/// once with DELETE /api/jobs/{name}/cdc.
/// </summary>
internal sealed partial class RemovedCdcSlotCleanup(
    IServiceScopeFactory scopes,
    JobCatalog jobs,
    IHostApplicationLifetime lifetime,
    IOptions<CoordinatorOptions> options,
    ILogger<RemovedCdcSlotCleanup> logger) : BackgroundService
{
    private static readonly TimeSpan LongestWait = TimeSpan.FromMinutes(10);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (jobs.HasUnnamedInvalidFile)
        {
            // That file may be a cdc job's whose slot must outlive a typo; the next start tries again.
            LogCleanupSkipped(string.Join(", ", jobs.Invalid.Where(f => f.Name is null).Select(f => f.File)));
            return;
        }

        // Hosted services start in turn and this one is registered before the bus: a request sent
        // before the bus has bound its response queue is answered into nothing, and the slot would
        // be dropped while its record stayed until the next start.
        if (!await StartedAsync(stoppingToken))
        {
            return;
        }

        var wait = options.Value.CdcSlotCleanupRetry;
        while (!stoppingToken.IsCancellationRequested)
        {
            if (await PassAsync(stoppingToken))
            {
                return;
            }

            LogCleanupRetry(wait.TotalSeconds);
            try
            {
                await Task.Delay(wait, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, LongestWait.Ticks));
        }
    }

    /// <summary>One pass; true when no recorded slot of a removed job is left.</summary>
    private async Task<bool> PassAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var outcomes = await scope.ServiceProvider.GetRequiredService<CdcSlotCleanup>().RemoveOrphansAsync(jobs.ClaimedNames, null, stoppingToken);
            return outcomes.All(o => o.Fate != CdcSlotFate.Skipped);
        }
        catch (Exception exception) when (!stoppingToken.IsCancellationRequested)
        {
            // The records stay; the next pass tries again.
            LogCleanupFailed(exception);
            return false;
        }
    }

    private async Task<bool> StartedAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var onStarted = lifetime.ApplicationStarted.Register(() => started.TrySetResult());
        await using var onStopping = stoppingToken.Register(() => started.TrySetCanceled(stoppingToken));
        try
        {
            await started.Task;
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replication slots of removed cdc jobs are kept: the job name of {Files} cannot be read, so any of them may be that file's; fix it and restart")]
    private partial void LogCleanupSkipped(string files);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not drop the replication slots of removed cdc jobs")]
    private partial void LogCleanupFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Replication slots of removed cdc jobs are left; trying again in {Seconds:0} s")]
    private partial void LogCleanupRetry(double seconds);
}
