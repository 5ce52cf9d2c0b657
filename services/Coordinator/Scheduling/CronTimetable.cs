using Sync.Contracts.Jobs;
using Sync.Coordinator.Jobs;
using Sync.Jobs;

namespace Sync.Coordinator.Scheduling;

/// <summary>
/// When each cron-scheduled job fires next, computed by <see cref="CronSchedule"/>, the same code
/// that validated the job file, so a job fires exactly when validation said it would. The first
/// occurrence counted is the first after the Coordinator starts. Occurrences that pass while no
/// start can be published (the control database is down) are not made up one by one: the job
/// fires once when it can, then at its first occurrence after that. When the jobs folder is read
/// again, a job whose schedule is unchanged keeps its next occurrence; an added or re-scheduled job
/// fires at its first occurrence after the reload; a removed one no longer fires.
/// </summary>
internal sealed class CronTimetable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (string Cron, CronSchedule Schedule, DateTimeOffset? Next)> _jobs = new(StringComparer.Ordinal);
    private readonly Func<IEnumerable<JobSpec>, IEnumerable<(string Job, string Cron)>> _schedules;

    /// <summary>The timetable of the jobs' runs, following the catalog when the jobs folder is read again.</summary>
    public CronTimetable(JobCatalog jobs, TimeProvider time)
        : this(_ => RunSchedules(jobs), [], time.GetUtcNow())
    {
        jobs.Changed += _ => Update([], time.GetUtcNow());
    }

    internal CronTimetable(IEnumerable<JobSpec> jobs, DateTimeOffset start)
        : this(RunSchedules, jobs, start)
    {
    }

    private CronTimetable(Func<IEnumerable<JobSpec>, IEnumerable<(string Job, string Cron)>> schedules, IEnumerable<JobSpec> jobs, DateTimeOffset start)
    {
        _schedules = schedules;
        Update(jobs, start);
    }

    /// <summary>The timetable of the jobs' own verifications (<c>verify.schedule</c>), from <paramref name="start"/>.</summary>
    internal static CronTimetable OfVerifications(IEnumerable<JobSpec> jobs, DateTimeOffset start) =>
        new(VerifySchedules, jobs, start);

    /// <summary>The timetable of the verifications, following the catalog when the jobs folder is read again.</summary>
    internal static CronTimetable OfVerifications(JobCatalog jobs, TimeProvider time)
    {
        var timetable = new CronTimetable(_ => VerifySchedules(jobs.All), [], time.GetUtcNow());
        jobs.Changed += _ => timetable.Update([], time.GetUtcNow());
        return timetable;
    }

    /// <summary>
    /// Takes the jobs as they are now: an unchanged schedule keeps its next occurrence, a new or
    /// changed one counts from <paramref name="now"/>, a job no longer scheduled is dropped.
    /// </summary>
    internal void Update(IEnumerable<JobSpec> jobs, DateTimeOffset now)
    {
        var schedules = _schedules(jobs).ToDictionary(s => s.Job, s => s.Cron, StringComparer.Ordinal);
        lock (_gate)
        {
            foreach (var gone in _jobs.Keys.Where(job => !schedules.ContainsKey(job)).ToList())
            {
                _jobs.Remove(gone);
            }

            foreach (var (job, cron) in schedules)
            {
                if (_jobs.TryGetValue(job, out var entry) && entry.Cron == cron)
                {
                    continue;
                }

                var schedule = CronSchedule.Parse(cron);
                _jobs[job] = (cron, schedule, schedule.Next(now));
            }
        }
    }

    // schedule: continuous is no cron: a cdc job's runs follow each other (ContinuousRunStarter).
    private static IEnumerable<(string Job, string Cron)> RunSchedules(IEnumerable<JobSpec> jobs) =>
        jobs.Where(j => j.Schedule is not (null or "continuous")).Select(j => (j.Name, j.Schedule!));

    // A streams job fires as one: each run resolves its streams and starts one run per stream (a cdc
    // one, one run of the job its streams resolved to, which is left out here so it is not listed twice).
    private static IEnumerable<(string Job, string Cron)> RunSchedules(JobCatalog jobs) =>
        RunSchedules(jobs.All.Where(j => j.Streams is null)).Concat(jobs.AllStreams.Where(s => s.Schedule is not (null or "continuous")).Select(s => (s.Name, s.Schedule!)));

    private static IEnumerable<(string Job, string Cron)> VerifySchedules(IEnumerable<JobSpec> jobs) =>
        jobs.Where(j => j.Verify?.Schedule is not null).Select(j => (j.Name, j.Verify!.Schedule!));

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

    /// <summary>The jobs whose next occurrence is at or before <paramref name="now"/>, by name, each with that occurrence.</summary>
    public IReadOnlyList<(string Job, DateTimeOffset Occurrence)> DueOccurrences(DateTimeOffset now)
    {
        lock (_gate)
        {
            return _jobs.Where(j => j.Value.Next <= now).Select(j => (j.Key, j.Value.Next!.Value)).OrderBy(j => j.Key, StringComparer.Ordinal).ToList();
        }
    }

    /// <summary>Records that a due job was started (or skipped while paused) at <paramref name="now"/>: it is due again at its first occurrence after that.</summary>
    public void Fired(string job, DateTimeOffset now)
    {
        lock (_gate)
        {
            // A job removed by a reload between Due and Fired is gone: nothing to move on.
            if (_jobs.TryGetValue(job, out var entry))
            {
                _jobs[job] = entry with { Next = entry.Schedule.Next(now) };
            }
        }
    }
}
