using Coravel.Invocable;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.Scheduling;

/// <summary>
/// Starts a run of each job whose cron schedule is due (<see cref="CronTimetable"/>), unless the job
/// is paused (sync_job_pauses); an active run refuses the start. Through the bus outbox, so a due run
/// is not lost to a crash; a start that could not be published is tried again at the next tick.
/// </summary>
internal sealed class CronRunStarter(CronTimetable timetable, TimeProvider time, IPublishEndpoint publish, CoordinatorDbContext dbContext) : IInvocable
{
    public const string Trigger = "schedule";

    /// <summary>How often due occurrences are looked for: the most a scheduled run starts late.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    public async Task Invoke()
    {
        var now = time.GetUtcNow();
        var due = timetable.Due(now);
        if (due.Count == 0)
        {
            return;
        }

        var paused = await dbContext.JobPauses.AsNoTracking().Where(p => due.Contains(p.JobName)).Select(p => p.JobName).ToListAsync();
        foreach (var job in due)
        {
            if (!paused.Contains(job))
            {
                await publish.PublishDurablyAsync(dbContext, new StartSyncRun(NewId.NextGuid(), job, Trigger, now), CancellationToken.None);
            }

            timetable.Fired(job, now);
        }
    }
}
