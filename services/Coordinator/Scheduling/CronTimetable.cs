using Sync.Contracts.Jobs;
using Sync.Coordinator.Jobs;
using Sync.Jobs;

namespace Sync.Coordinator.Scheduling;

/// <summary>
/// When each cron-scheduled job fires next, computed by <see cref="CronSchedule"/>, the same code
/// that validated the job file, so a job fires exactly when validation said it would. The first
/// occurrence counted is the first after the Coordinator starts. Occurrences that pass while no
/// start can be published (the control database is down) are not made up one by one: the job
/// fires once when it can, then at its first occurrence after that.
/// </summary>
internal sealed class CronTimetable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (CronSchedule Schedule, DateTimeOffset? Next)> _jobs = new(StringComparer.Ordinal);

    public CronTimetable(JobCatalog jobs, TimeProvider time)
        // A streams job fires as one: each run resolves its streams and starts one run per stream.
        : this(jobs.All.Where(j => j.Schedule is not (null or "continuous")).Select(j => (j.Name, j.Schedule!))
            .Concat(jobs.AllStreams.Where(s => s.Schedule is not null).Select(s => (s.Name, s.Schedule!))), time.GetUtcNow())
    {
    }

    internal CronTimetable(IEnumerable<JobSpec> jobs, DateTimeOffset start)
        // schedule: continuous is no cron: a cdc job's runs follow each other (ContinuousRunStarter).
        : this(jobs.Where(j => j.Schedule is not (null or "continuous")).Select(j => (j.Name, j.Schedule!)), start)
    {
    }

    private CronTimetable(IEnumerable<(string Job, string Cron)> schedules, DateTimeOffset start)
    {
        foreach (var (job, cron) in schedules)
        {
            var schedule = CronSchedule.Parse(cron);
            _jobs.Add(job, (schedule, schedule.Next(start)));
        }
    }

    /// <summary>The timetable of the jobs' own verifications (<c>verify.schedule</c>), from <paramref name="start"/>.</summary>
    internal static CronTimetable OfVerifications(IEnumerable<JobSpec> jobs, DateTimeOffset start) =>
        new(jobs.Where(j => j.Verify?.Schedule is not null).Select(j => (j.Name, j.Verify!.Schedule!)), start);

    /// <summary>The job's next occurrence, in UTC; null for a job without a cron schedule or one that never fires again.</summary>
    public DateTimeOffset? NextOccurrence(string job)
    {
        lock (_gate)
        {
            return _jobs.TryGetValue(job, out var entry) ? entry.Next : null;
        }
    }

    /// <summary>The jobs whose next occurrence is at or before <paramref name="now"/>, by name.</summary>
    public IReadOnlyList<string> Due(DateTimeOffset now)
    {
        lock (_gate)
        {
            return _jobs.Where(j => j.Value.Next <= now).Select(j => j.Key).Order(StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>Records that a due job was started (or skipped while paused) at <paramref name="now"/>: it is due again at its first occurrence after that.</summary>
    public void Fired(string job, DateTimeOffset now)
    {
        lock (_gate)
        {
            var (schedule, _) = _jobs[job];
            _jobs[job] = (schedule, schedule.Next(now));
        }
    }
}
