using Coravel.Invocable;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Runs;
using Sync.Coordinator.Runs.Activities;

namespace Sync.Coordinator.Scheduling;

/// <summary>
/// Keeps every cdc job with <c>schedule: continuous</c> streaming: starts a run of such a job that is
/// not paused, has no active run and whose last run ended more than one interval ago (its first start, a
/// run that failed, a Coordinator that was down), and resolves a cdc streams job not resolved yet, or
/// resolved longer than <see cref="CoordinatorOptions.StreamsRefreshInterval"/> ago (issue 18: a table
/// created after the job was loaded joins its streams without a reload, a dropped one leaves them). A
/// completed run's successor is started by <see cref="ContinueStreamActivity"/> at once, so this only
/// steps in when that did not happen. Its starts are claimed (<see cref="ScheduledStarts"/>), so
/// Coordinator replicas start a stream once.
/// </summary>
internal sealed partial class ContinuousRunStarter(
    JobCatalog jobs, StreamResolver streams, CoordinatorDbContext dbContext, IPublishEndpoint publish, IOptions<CoordinatorOptions> options, ILogger<ContinuousRunStarter> logger) : IInvocable
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    public async Task Invoke()
    {
        // A continuous cdc streams job runs as the job its file resolves to: resolved again here once a
        // reload dropped it (its file changed), and every StreamsRefreshInterval, so an added or removed
        // stream, or a table created or dropped in the source, takes effect at the next run.
        var staleBefore = DateTimeOffset.UtcNow - options.Value.StreamsRefreshInterval;
        foreach (var job in jobs.AllStreams.Where(s => s is { Defaults.Mode: SyncMode.Cdc, Schedule: "continuous" }))
        {
            var resolved = jobs.Find(job.Name);
            if (resolved is not null && streams.ResolvedAt(job.Name) > staleBefore)
            {
                continue;
            }

            try
            {
                var result = await streams.ResolveAsync(job, CancellationToken.None);
                foreach (var error in result.Errors)
                {
                    // The job runs on with the streams it resolved to before, if any.
                    LogStreamsInvalid(logger, job.Name, error.ToString());
                }

                if (resolved?.Streams is { } before && result.IsValid && jobs.Find(job.Name)?.Streams is { } after)
                {
                    var joined = after.Select(s => s.Source.Table).Except(before.Select(s => s.Source.Table), StringComparer.Ordinal).ToList();
                    var left = before.Select(s => s.Source.Table).Except(after.Select(s => s.Source.Table), StringComparer.Ordinal).ToList();
                    if (joined.Count + left.Count > 0)
                    {
                        LogStreamsChanged(logger, job.Name, joined.Count == 0 ? "-" : string.Join(", ", joined), left.Count == 0 ? "-" : string.Join(", ", left));
                    }
                }
            }
            catch (Exception e) when (e is RequestTimeoutException or RequestFaultException)
            {
                // Tried again at the next interval.
                LogNotResolved(logger, job.Name, e.Message);
            }
        }

        var continuous = jobs.All.Where(j => j is { Mode: SyncMode.Cdc, Schedule: "continuous" }).Select(j => j.Name).ToList();
        if (continuous.Count == 0)
        {
            return;
        }

        var quietSince = DateTimeOffset.UtcNow - Interval;
        var busy = await dbContext.Runs.AsNoTracking()
            .Where(r => continuous.Contains(r.JobName) && (RunStates.Active.Contains(r.CurrentState) || r.FinishedAt > quietSince || r.StartedAt > quietSince))
            .Select(r => r.JobName)
            .Union(dbContext.JobPauses.AsNoTracking().Select(p => p.JobName))
            .ToListAsync();
        foreach (var job in continuous.Except(busy))
        {
            // Claimed with the start's outbox row, so Coordinator replicas start one stream, not one each.
            var runId = NewId.NextGuid();
            await using var transaction = await dbContext.Database.BeginTransactionAsync();
            if (await ScheduledStarts.ClaimContinuousAsync(dbContext, job, runId, quietSince, CancellationToken.None))
            {
                await publish.PublishDurablyAsync(dbContext, new StartSyncRun(runId, job, ContinueStreamActivity.Trigger, DateTimeOffset.UtcNow), CancellationToken.None);
                await transaction.CommitAsync();
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Streams of continuous cdc job {JobName} resolved again against the source: joined {Joined}; left {Left}")]
    private static partial void LogStreamsChanged(ILogger logger, string jobName, string joined, string left);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Streams of continuous cdc job {JobName} do not resolve against the source; it runs on with the streams it had, if any: {Error}")]
    private static partial void LogStreamsInvalid(ILogger logger, string jobName, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Continuous cdc streams job {JobName} not resolved, the Extractor did not answer ({Reason}); trying again")]
    private static partial void LogNotResolved(ILogger logger, string jobName, string reason);
}
