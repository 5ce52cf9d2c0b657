using Coravel.Invocable;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;
using Sync.Jobs;

namespace Sync.Coordinator.Scheduling;

/// <summary>
/// Starts a run of each job whose cron schedule is due (<see cref="CronTimetable"/>), unless the job
/// is paused (sync_job_pauses); an active run refuses the start. Through the bus outbox, so a due run
/// is not lost to a crash; a start that could not be published is tried again at the next tick. Each
/// occurrence is claimed first (<see cref="ScheduledStarts"/>), so Coordinator replicas start it once.
/// </summary>
internal sealed partial class CronRunStarter(
    CronTimetable timetable, TimeProvider time, IPublishEndpoint publish, CoordinatorDbContext dbContext, JobCatalog jobs, StreamResolver streams, ILogger<CronRunStarter> logger) : IInvocable
{
    public const string Trigger = "schedule";

    /// <summary>How often due occurrences are looked for: the most a scheduled run starts late.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public async Task Invoke()
    {
        var now = time.GetUtcNow();
        var due = timetable.DueOccurrences(now);
        if (due.Count == 0)
        {
            return;
        }

        var names = due.Select(d => d.Job).ToList();
        var paused = await dbContext.JobPauses.AsNoTracking().Where(p => names.Contains(p.JobName)).Select(p => p.JobName).ToListAsync();
        foreach (var (job, occurrence) in due)
        {
            if (!paused.Contains(job))
            {
                await StartAsync(job, occurrence, now);
            }

            timetable.Fired(job, now);
        }
    }

    // The occurrence's claim and its starts commit together: a replica that lost the claim starts
    // nothing, and a start that could not be committed leaves the occurrence unclaimed.
    private async Task StartAsync(string job, DateTimeOffset occurrence, DateTimeOffset now)
    {
        var runId = NewId.NextGuid();
        await using var transaction = await dbContext.Database.BeginTransactionAsync();
        if (!await ScheduledStarts.ClaimOccurrenceAsync(dbContext, job, occurrence, runId, CancellationToken.None))
        {
            LogClaimed(logger, job, occurrence);
            return;
        }

        // A cursor streams job (not in the catalog itself) or a cdc streams job (one job carrying
        // its streams) is resolved against the source catalog before it starts.
        if (jobs.Find(job) is not { Streams: null } && jobs.FindStreams(job) is { } streamsJob)
        {
            await StartStreamsAsync(streamsJob, now);
        }
        else
        {
            await publish.PublishDurablyAsync(dbContext, new StartSyncRun(runId, job, Trigger, now), CancellationToken.None);
        }

        await transaction.CommitAsync();
    }

    // Each stream's run is admitted on its own (one active run per stream job); a streams job that
    // cannot be resolved now waits for its next occurrence, as a paused one does.
    private async Task StartStreamsAsync(StreamsJob job, DateTimeOffset now)
    {
        StreamExpansionResult expansion;
        try
        {
            expansion = await streams.ResolveAsync(job, CancellationToken.None);
        }
        catch (Exception e) when (e is RequestTimeoutException or RequestFaultException)
        {
            LogNotResolved(logger, job.Name, e.Message);
            return;
        }

        foreach (var error in expansion.Errors)
        {
            LogNotResolved(logger, job.Name, error.ToString());
        }

        var paused = await dbContext.JobPauses.AsNoTracking().Select(p => p.JobName).ToListAsync();
        foreach (var stream in expansion.Jobs.Where(j => !paused.Contains(j.Name)))
        {
            await publish.PublishDurablyAsync(dbContext, new StartSyncRun(NewId.NextGuid(), stream.Name, Trigger, now), CancellationToken.None);
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Scheduled run of {JobName} at {Occurrence} already started by another Coordinator")]
    private static partial void LogClaimed(ILogger logger, string jobName, DateTimeOffset occurrence);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Scheduled run of streams job {JobName} not started: {Reason}")]
    private static partial void LogNotResolved(ILogger logger, string jobName, string reason);
}
