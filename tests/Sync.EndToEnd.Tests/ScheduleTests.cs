using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Schedules that job-file validation accepted and Coravel's cron parser refused (issue 13: @hourly
/// stopped the Coordinator at start-up), against the real services: the Coordinator starts, shows
/// each job's next occurrence in UTC, and its schedule starts a run that completes.
/// </summary>
public sealed class ScheduleTests
{
    [Fact]
    public async Task Macros_names_steps_and_doubled_spaces_start_the_Coordinator_and_fire()
    {
        await using var sync = await SyncDeployment.CreateAsync("schedules");
        foreach (var table in new[] { "orders", "idle" })
        {
            await OrdersTable.CreateAsync(sync.Source, table);
            await OrdersTable.CreateAsync(sync.Destination, table);
        }

        await OrdersTable.SeedAsync(sync.Source, "orders", 1, 120);
        sync.WriteJob("hourly.yml", OrdersTable.Job("hourly", "idle", extra: "schedule: \"@hourly\""));
        sync.WriteJob("weekdays.yml", OrdersTable.Job("weekdays", "idle", extra: "schedule: \"0 9 * * MON-FRI\""));
        sync.WriteJob("quarterly.yml", OrdersTable.Job("quarterly", "idle", extra: "schedule: \"0/15 * * * *\""));
        sync.WriteJob("spaced.yml", OrdersTable.Job("spaced", "idle", extra: "schedule: \"30  3 * * *\""));
        sync.WriteJob("ticking.yml", OrdersTable.Job("ticking", "orders", extra: "schedule: \"@every_minute\""));

        var before = DateTimeOffset.UtcNow;
        await sync.StartAsync();
        var after = DateTimeOffset.UtcNow;

        var jobs = (await sync.Http.GetFromJsonAsync<JsonElement>("/api/jobs")).EnumerateArray()
            .ToDictionary(j => j.GetProperty("name").GetString()!, j => j.GetProperty("nextRun").GetDateTimeOffset());
        Assert.Equal(["hourly", "quarterly", "spaced", "ticking", "weekdays"], jobs.Keys.Order(StringComparer.Ordinal));
        Assert.All(jobs.Values, next => Assert.Equal((TimeSpan.Zero, 0, 0), (next.Offset, next.Second, next.Millisecond)));
        Assert.All(jobs.Values, next => Assert.True(next > before, $"{next:O} is not after the start ({before:O})"));
        Assert.Equal(0, jobs["hourly"].Minute);
        Assert.True(jobs["hourly"] <= after.AddHours(1), $"{jobs["hourly"]:O}");
        Assert.Equal((9, 0), (jobs["weekdays"].Hour, jobs["weekdays"].Minute));
        Assert.InRange(jobs["weekdays"].DayOfWeek, DayOfWeek.Monday, DayOfWeek.Friday);
        Assert.True(jobs["weekdays"] <= after.AddDays(3), $"{jobs["weekdays"]:O}");
        Assert.Equal(0, jobs["quarterly"].Minute % 15);
        Assert.True(jobs["quarterly"] <= after.AddMinutes(15), $"{jobs["quarterly"]:O}");
        Assert.Equal((3, 30), (jobs["spaced"].Hour, jobs["spaced"].Minute));
        Assert.True(jobs["spaced"] <= after.AddDays(1), $"{jobs["spaced"]:O}");
        Assert.True(jobs["ticking"] <= after.AddMinutes(1), $"{jobs["ticking"]:O}");

        var run = await sync.WaitForScheduledRunAsync("ticking", TimeSpan.FromMinutes(3));

        Assert.True(run.State == "Completed", $"{run}\n{sync.Logs()}");
        Assert.Equal(120, run.Processed);
        Assert.Equal(await OrdersTable.DigestAsync(sync.Source, "orders"), await OrdersTable.DigestAsync(sync.Destination, "orders"));
    }
}
