using System.Globalization;
using Sync.Coordinator.Scheduling;
using Sync.Jobs;

namespace Sync.Coordinator.Tests;

/// <summary>
/// Every schedule form that job-file validation accepts, through the timetable the Coordinator fires
/// from: the file validates, and the job is due at exactly these instants (UTC) and not a tick before.
/// </summary>
public sealed class CronTimetableTests
{
    // A Monday.
    private static readonly DateTimeOffset Start = new(2025, 3, 10, 10, 7, 30, TimeSpan.Zero);

    [Theory]
    [InlineData("@hourly", "2025-03-10 11:00", "2025-03-10 12:00", "2025-03-10 13:00")]
    [InlineData("@HOURLY", "2025-03-10 11:00", "2025-03-10 12:00", "2025-03-10 13:00")]
    [InlineData("@daily", "2025-03-11 00:00", "2025-03-12 00:00", "2025-03-13 00:00")]
    [InlineData("@midnight", "2025-03-11 00:00", "2025-03-12 00:00", "2025-03-13 00:00")]
    [InlineData("@weekly", "2025-03-16 00:00", "2025-03-23 00:00", "2025-03-30 00:00")]
    [InlineData("@monthly", "2025-04-01 00:00", "2025-05-01 00:00", "2025-06-01 00:00")]
    [InlineData("@yearly", "2026-01-01 00:00", "2027-01-01 00:00", "2028-01-01 00:00")]
    [InlineData("@annually", "2026-01-01 00:00", "2027-01-01 00:00", "2028-01-01 00:00")]
    [InlineData("@every_minute", "2025-03-10 10:08", "2025-03-10 10:09", "2025-03-10 10:10")]
    [InlineData("* * * * *", "2025-03-10 10:08", "2025-03-10 10:09", "2025-03-10 10:10")]
    [InlineData("*/15 * * * *", "2025-03-10 10:15", "2025-03-10 10:30", "2025-03-10 10:45", "2025-03-10 11:00")]
    [InlineData("0/15 * * * *", "2025-03-10 10:15", "2025-03-10 10:30", "2025-03-10 10:45", "2025-03-10 11:00")]
    [InlineData("5/15 * * * *", "2025-03-10 10:20", "2025-03-10 10:35", "2025-03-10 10:50", "2025-03-10 11:05")]
    [InlineData("0 9-17/4 * * *", "2025-03-10 13:00", "2025-03-10 17:00", "2025-03-11 09:00")]
    [InlineData("15 10 * * *", "2025-03-10 10:15", "2025-03-11 10:15", "2025-03-12 10:15")]
    [InlineData("0 9 * * MON-FRI", "2025-03-11 09:00", "2025-03-12 09:00", "2025-03-13 09:00", "2025-03-14 09:00", "2025-03-17 09:00")]
    [InlineData("0 9 * * mon-fri", "2025-03-11 09:00", "2025-03-12 09:00", "2025-03-13 09:00", "2025-03-14 09:00", "2025-03-17 09:00")]
    [InlineData("0 9 * * 1-5", "2025-03-11 09:00", "2025-03-12 09:00", "2025-03-13 09:00", "2025-03-14 09:00", "2025-03-17 09:00")]
    [InlineData("0 0 * * 6-1", "2025-03-15 00:00", "2025-03-16 00:00", "2025-03-17 00:00", "2025-03-22 00:00")]
    [InlineData("30 8 * * 1,3,5", "2025-03-12 08:30", "2025-03-14 08:30", "2025-03-17 08:30")]
    [InlineData("0 9 1,15 * *", "2025-03-15 09:00", "2025-04-01 09:00", "2025-04-15 09:00")]
    [InlineData("0 12 */10 * *", "2025-03-11 12:00", "2025-03-21 12:00", "2025-03-31 12:00", "2025-04-01 12:00")]
    [InlineData("0 0 1 JAN,JUL *", "2025-07-01 00:00", "2026-01-01 00:00", "2026-07-01 00:00")]
    [InlineData("0 0 * * 7", "2025-03-16 00:00", "2025-03-23 00:00", "2025-03-30 00:00")]
    [InlineData("0 0 ? * SUN", "2025-03-16 00:00", "2025-03-23 00:00", "2025-03-30 00:00")]
    [InlineData("0 0 L * *", "2025-03-31 00:00", "2025-04-30 00:00", "2025-05-31 00:00")]
    [InlineData("0 0 LW * *", "2025-03-31 00:00", "2025-04-30 00:00", "2025-05-30 00:00")]
    [InlineData("0 0 15W * *", "2025-03-14 00:00", "2025-04-15 00:00", "2025-05-15 00:00")]
    [InlineData("0 0 * * 5L", "2025-03-28 00:00", "2025-04-25 00:00", "2025-05-30 00:00")]
    [InlineData("0 0 * * MON#1", "2025-04-07 00:00", "2025-05-05 00:00", "2025-06-02 00:00")]
    [InlineData("0 0 29 2 *", "2028-02-29 00:00", "2032-02-29 00:00", "2036-02-29 00:00")]
    [InlineData("0  9 * * *", "2025-03-11 09:00", "2025-03-12 09:00", "2025-03-13 09:00")]
    [InlineData("0\t9 * * *", "2025-03-11 09:00", "2025-03-12 09:00", "2025-03-13 09:00")]
    [InlineData(" 0 9 * * * ", "2025-03-11 09:00", "2025-03-12 09:00", "2025-03-13 09:00")]
    public void An_accepted_schedule_fires_at_its_occurrences_in_utc(string schedule, params string[] expected)
    {
        var timetable = new CronTimetable([Validated(schedule)], Start);

        var fired = new List<DateTimeOffset>();
        while (fired.Count < expected.Length)
        {
            var next = timetable.NextOccurrence("ticking") ?? throw new InvalidOperationException("the schedule stopped firing");
            Assert.Empty(timetable.Due(next.AddMilliseconds(-1)));
            Assert.Equal(["ticking"], timetable.Due(next));
            timetable.Fired("ticking", next);
            fired.Add(next);
        }

        Assert.Equal(expected.Select(Utc), fired);
    }

    [Fact]
    public void A_start_on_an_occurrence_waits_for_the_next_one()
    {
        var onTheHour = new DateTimeOffset(2025, 3, 10, 11, 0, 0, TimeSpan.Zero);

        var timetable = new CronTimetable([Validated("@hourly")], onTheHour);

        Assert.Empty(timetable.Due(onTheHour));
        Assert.Equal(onTheHour.AddHours(1), timetable.NextOccurrence("ticking"));
    }

    [Fact]
    public void Occurrences_missed_while_no_start_could_be_published_fire_once()
    {
        var timetable = new CronTimetable([Validated("*/15 * * * *")], Start);
        var late = Start.AddHours(2);

        Assert.Equal(["ticking"], timetable.Due(late));
        timetable.Fired("ticking", late);

        Assert.Empty(timetable.Due(late));
        Assert.Equal(Utc("2025-03-10 12:15"), timetable.NextOccurrence("ticking"));
    }

    [Fact]
    public void Jobs_without_a_cron_schedule_are_never_due()
    {
        var manual = Validated(null) with { Name = "manual" };
        var continuous = Validated("@hourly") with { Name = "streaming", Schedule = "continuous" };

        var timetable = new CronTimetable([manual, continuous, Validated("@hourly")], Start);

        Assert.Equal(["ticking"], timetable.Due(Start.AddYears(1)));
        Assert.Null(timetable.NextOccurrence("manual"));
        Assert.Null(timetable.NextOccurrence("streaming"));
    }

    [Fact]
    public void Verifications_fire_on_their_own_schedule_not_the_runs()
    {
        var verified = Validated("@hourly") with { Name = "verified", Verify = new Sync.Contracts.Jobs.VerifySpec(false, "0 3 * * *", []) };
        var afterRunOnly = Validated("@hourly") with { Name = "after_run", Verify = new Sync.Contracts.Jobs.VerifySpec(true, null, []) };

        var timetable = CronTimetable.OfVerifications([verified, afterRunOnly, Validated("@hourly")], Start);

        Assert.Equal(new DateTimeOffset(2025, 3, 11, 3, 0, 0, TimeSpan.Zero), timetable.NextOccurrence("verified"));
        Assert.Empty(timetable.Due(Start.AddHours(1)));
        Assert.Equal(["verified"], timetable.Due(Start.AddDays(1)));
        Assert.Null(timetable.NextOccurrence("after_run"));
        Assert.Null(timetable.NextOccurrence("ticking"));
    }

    [Fact]
    public void A_reload_keeps_an_unchanged_schedule_counts_a_changed_one_from_now_and_drops_a_removed_one()
    {
        var kept = Validated("@daily") with { Name = "kept" };
        var timetable = new CronTimetable([kept, Validated("@hourly"), Validated("@weekly") with { Name = "removed" }], Start);
        var reloadedAt = Start.AddMinutes(30);

        timetable.Update([kept, Validated("*/5 * * * *"), Validated("@hourly") with { Name = "added" }], reloadedAt);

        Assert.Equal(Utc("2025-03-11 00:00"), timetable.NextOccurrence("kept"));
        Assert.Equal(Utc("2025-03-10 10:40"), timetable.NextOccurrence("ticking"));
        Assert.Equal(Utc("2025-03-10 11:00"), timetable.NextOccurrence("added"));
        Assert.Null(timetable.NextOccurrence("removed"));
        // A job removed between Due and Fired is passed over, not a failure of the tick.
        timetable.Fired("removed", reloadedAt);
    }

    private static Sync.Contracts.Jobs.JobSpec Validated(string? schedule)
    {
        var line = schedule is null ? "" : $"schedule: \"{schedule.Replace("\t", "\\t", StringComparison.Ordinal)}\"\n";
        var result = JobFile.Parse(line + SampleJobs.Orders("ticking"), "jobs/ticking.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }

    private static DateTimeOffset Utc(string text) =>
        DateTimeOffset.ParseExact(text, "yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
}
