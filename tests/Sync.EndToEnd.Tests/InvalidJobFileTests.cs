using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// No job file, however broken, stops the other jobs: the real Coordinator starts with a file whose
/// schedule and keys are wrong and one that is not YAML at all, lists both with their errors
/// (API and CLI), refuses to run them, and runs the valid job. Edits take effect without a restart:
/// the fixed file is picked up by the folder watch and its job runs; a file broken later stops only
/// its job (POST /api/jobs/reload answers with its errors) while the fixed one runs on.
/// </summary>
public sealed class InvalidJobFileTests
{
    [Fact]
    public async Task Broken_job_files_are_listed_with_their_errors_and_the_valid_job_runs()
    {
        await using var sync = await SyncDeployment.CreateAsync("badjob");
        await OrdersTable.CreateAsync(sync.Source, "orders");
        await OrdersTable.CreateAsync(sync.Destination, "orders");
        await OrdersTable.SeedAsync(sync.Source, "orders", 1, 300);
        sync.WriteJob("good.yml", OrdersTable.Job("good", "orders"));
        sync.WriteJob("broken.yml", """
            name: broken
            schedule: "@fortnightly"
            batch_size: 5
            sorce:
              type: postgres
            destination:
              type: postgres
              connection: destination
              table: public.orders
            """);
        sync.WriteJob("unreadable.yml", "name: unreadable\nsource: [unclosed\n");
        var folder = Path.GetFileName(sync.JobsDirectory);

        await sync.StartAsync();

        var jobs = (await sync.Http.GetFromJsonAsync<JsonElement>("/api/jobs")).EnumerateArray().ToList();
        Assert.Equal(["broken", "good", $"{folder}/unreadable.yml"], jobs.Select(j => j.GetProperty("name").GetString()));
        Assert.Equal([false, true, false], jobs.Select(j => j.GetProperty("valid").GetBoolean()));
        var broken = jobs[0];
        Assert.Equal($"{folder}/broken.yml", broken.GetProperty("file").GetString());
        var errors = broken.GetProperty("errors").EnumerateArray().ToList();
        Assert.Equal(
            [("source", 1), ("schedule", 2), ("batch_size", 3), ("sorce", 4)],
            errors.Select(e => (e.GetProperty("field").GetString(), e.GetProperty("line").GetInt32())));
        Assert.All(errors, e => Assert.Equal($"{folder}/broken.yml", e.GetProperty("file").GetString()));
        Assert.All(errors, e => Assert.False(string.IsNullOrEmpty(e.GetProperty("suggestion").GetString())));
        Assert.StartsWith($"{folder}/broken.yml:2:11: schedule: must be a cron schedule", errors[1].GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Equal("rename sorce to source", errors[3].GetProperty("suggestion").GetString());
        var unreadable = jobs[2].GetProperty("errors").EnumerateArray().Single();
        Assert.Equal(($"{folder}/unreadable.yml", 3), (unreadable.GetProperty("file").GetString(), unreadable.GetProperty("line").GetInt32()));
        Assert.Contains("is not valid YAML", unreadable.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, jobs[1].GetProperty("file").ValueKind);
        Assert.Empty(jobs[1].GetProperty("errors").EnumerateArray());

        using (var refused = await sync.Http.PostAsync("/api/jobs/broken/runs", content: null))
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
            var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal($"Job \"broken\" does not run: {folder}/broken.yml is invalid.", problem.GetProperty("title").GetString());
        }

        var (code, table) = await sync.CliAsync(null, "jobs");
        Assert.True(code == 1, $"a job file is invalid, so `syncctl jobs` exits 1, not {code}:\n{table}");
        var lines = table.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("broken", StringComparison.Ordinal) && l.Contains($"INVALID          {folder}/broken.yml: 4 problem(s)", StringComparison.Ordinal));
        Assert.Contains(errors[1].GetProperty("text").GetString(), lines);

        var run = await sync.RunAsync("good");

        Assert.True(run.State == "Completed", $"{run}\n{sync.Logs()}");
        Assert.Equal(300, run.Processed);
        Assert.Equal(await OrdersTable.DigestAsync(sync.Source, "orders"), await OrdersTable.DigestAsync(sync.Destination, "orders"));

        // Fixed in place, no restart: the watch reads the folder again and the job runs.
        // Qualified: the destination has a schema "sync" (its bookkeeping), the first of the test role
        // sync's search_path ("$user", public), where an unqualified CREATE TABLE would go.
        await OrdersTable.CreateAsync(sync.Source, "public.parcels");
        await OrdersTable.CreateAsync(sync.Destination, "public.parcels");
        await OrdersTable.SeedAsync(sync.Source, "public.parcels", 1, 120);
        sync.WriteJob("broken.yml", OrdersTable.Job("broken", "parcels"));
        await WaitForAsync(sync, jobs => jobs.Any(j => j.GetProperty("name").GetString() == "broken" && j.GetProperty("valid").GetBoolean()));
        var fixedRun = await sync.RunAsync("broken");
        Assert.True(fixedRun.State == "Completed", $"{fixedRun}\n{sync.Logs()}");
        Assert.Equal(await OrdersTable.DigestAsync(sync.Source, "public.parcels"), await OrdersTable.DigestAsync(sync.Destination, "public.parcels"));

        // Broken later: only its job stops, the reload says why, the other runs on.
        sync.WriteJob("good.yml", OrdersTable.Job("good", "orders", extra: "schedule: \"@fortnightly\""));
        using (var reload = await sync.Http.PostAsync("/api/jobs/reload", content: null))
        {
            Assert.Equal(HttpStatusCode.OK, reload.StatusCode);
            var reloaded = await reload.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal(["good"], reloaded.GetProperty("removed").EnumerateArray().Select(n => n.GetString()));
            var invalid = reloaded.GetProperty("invalid").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "good");
            Assert.Equal("schedule", invalid.GetProperty("errors")[0].GetProperty("field").GetString());
        }

        using (var stopped = await sync.Http.PostAsync("/api/jobs/good/runs", content: null))
        {
            Assert.Equal(HttpStatusCode.NotFound, stopped.StatusCode);
        }

        await OrdersTable.ExecuteAsync(sync.Source, "UPDATE public.parcels SET updated_at = now() WHERE id <= 10");
        var next = await sync.RunAsync("broken");
        Assert.True(next is { State: "Completed", Processed: 10 }, $"{next}\n{sync.Logs()}");
    }

    /// <summary>Polls GET /api/jobs until <paramref name="condition"/> holds (the folder watch looks every 2 s and reads a change once it settled).</summary>
    private static async Task WaitForAsync(SyncDeployment sync, Func<List<JsonElement>, bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var jobs = (await sync.Http.GetFromJsonAsync<JsonElement>("/api/jobs")).EnumerateArray().ToList();
            if (condition(jobs))
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the jobs folder was not read again: {string.Join(", ", jobs.Select(j => $"{j.GetProperty("name")}:{j.GetProperty("valid")}"))}\n{sync.Logs()}");
            await Task.Delay(250);
        }
    }
}
