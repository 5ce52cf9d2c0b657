using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>One deployment with an API key, for the operator's API, the sync CLI and the dashboard (shared by OperationsCollection).</summary>
public sealed class OperationsFixture : IAsyncLifetime
{
    public const string Key = "test-key-1";

    /// <summary>Reads only; the deployment's client sends it, so every read of the tests works and no change does without <see cref="Key"/>.</summary>
    public const string ReadKey = "test-read-key-1";

    public SyncDeployment Deployment { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Deployment = await SyncDeployment.CreateAsync("ops");
        foreach (var table in new[] { "orders_ops", "orders_paused", "orders_ticking", "orders_broken", "orders_dash", "orders_cancel", "orders_discard" })
        {
            await OrdersTable.CreateAsync(Deployment.Source, table);
            await OrdersTable.CreateAsync(Deployment.Destination, table);
        }

        // The dashboard's job: the destination refuses a negative amount, so a run leaves a dead letter.
        await OrdersTable.ExecuteAsync(Deployment.Destination, "ALTER TABLE orders_dash ADD CONSTRAINT amount_not_negative CHECK (amount >= 0)");
        Deployment.WriteJob("orders_dash.yml", OrdersTable.Job("orders-dash", "orders_dash"));
        await OrdersTable.ExecuteAsync(Deployment.Destination, "ALTER TABLE orders_discard ADD CONSTRAINT amount_not_negative CHECK (amount >= 0)");
        Deployment.WriteJob("orders_discard.yml", OrdersTable.Job("orders-discard", "orders_discard"));

        Deployment.WriteJob("orders_ops.yml", OrdersTable.Job("orders-ops", "orders_ops"));
        Deployment.WriteJob("orders_broken.yml", OrdersTable.Job("orders-broken", "orders_broken"));
        // A run of this job waits at the source until its test opens the gate.
        await Failures.SourceGate.CreateFunctionAsync(Deployment.Source);
        await OrdersTable.SeedAsync(Deployment.Source, "orders_cancel", 1, 300);
        Deployment.WriteJob("orders_cancel.yml", Failures.SlowExtractionTests.Fixture.QueryJob("orders-cancel", "orders_cancel", "SELECT * FROM orders_cancel WHERE test_source_gate(true)"));
        Deployment.WriteJob("orders_paused.yml", OrdersTable.Job("orders-paused", "orders_paused", extra: "schedule: \"* * * * *\""));
        Deployment.WriteJob("orders_ticking.yml", OrdersTable.Job("orders-ticking", "orders_ticking", extra: "schedule: \"* * * * *\""));
        await FullRefreshTable.CreateAsync(Deployment);
        Deployment.SetEnvironment("Coordinator__ApiKey", Key);
        Deployment.SetEnvironment("Coordinator__ReadApiKey", ReadKey);
        Deployment.Http.DefaultRequestHeaders.Add("X-Api-Key", ReadKey);
        await S3Export.PrepareAsync(Deployment);
        await Deployment.StartAsync();
    }

    public async Task DisposeAsync() => await Deployment.DisposeAsync();
}

/// <summary>The test classes that share the one <see cref="OperationsFixture"/> deployment.</summary>
[CollectionDefinition(Name)]
public sealed class OperationsCollection : ICollectionFixture<OperationsFixture>
{
    public const string Name = "Operations";
}

[Collection(OperationsCollection.Name)]
public sealed partial class OperationsApiTests(OperationsFixture fixture)
{
    private SyncDeployment Deployment => fixture.Deployment;

    [Fact]
    public async Task A_change_without_the_api_key_is_refused_with_401_problem_json()
    {
        using var response = await Deployment.Http.PostAsync("/api/jobs/orders-ops/pause", content: null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("X-Api-Key", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Null(await OrdersTable.ScalarAsync(Deployment.Control, "SELECT job_name FROM sync_job_pauses WHERE job_name = 'orders-ops'"));
    }

    [Fact]
    public async Task Reads_need_a_key_once_one_is_configured_and_the_read_key_changes_nothing()
    {
        using var anonymous = new HttpClient { BaseAddress = Deployment.Http.BaseAddress };
        using (var refused = await anonymous.GetAsync("/api/dead-letters"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Contains("X-Api-Key", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var read = await Deployment.Http.GetAsync("/api/dead-letters"))
        {
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        }

        // The key itself reads too; health stays open for probes.
        using (var keyed = await anonymous.SendAsync(Keyed(HttpMethod.Get, "/api/jobs")))
        {
            Assert.Equal(HttpStatusCode.OK, keyed.StatusCode);
        }

        using (var health = await anonymous.GetAsync("/health"))
        {
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        }

        using var change = await Deployment.Http.PostAsync("/api/jobs/orders-ops/pause", content: null);
        Assert.Equal(HttpStatusCode.Unauthorized, change.StatusCode);
        Assert.Null(await OrdersTable.ScalarAsync(Deployment.Control, "SELECT job_name FROM sync_job_pauses WHERE job_name = 'orders-ops'"));
    }

    [Theory]
    [InlineData("Origin", "http://evil.example")]
    [InlineData("Origin", "http://localhost:3000")]
    [InlineData("Sec-Fetch-Site", "cross-site")]
    [InlineData("Sec-Fetch-Site", "same-site")]
    [InlineData("Content-Type", "application/x-www-form-urlencoded")]
    public async Task A_change_a_page_of_another_site_could_send_is_refused_even_with_the_key(string header, string value)
    {
        using var anonymous = new HttpClient { BaseAddress = Deployment.Http.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/jobs/orders-ops/pause");
        if (header == "Content-Type")
        {
            // What a plain HTML form sends: no custom header, no key, a form body.
            request.Content = new StringContent("x=1", System.Text.Encoding.UTF8, value);
        }
        else
        {
            request.Headers.Add("X-Api-Key", OperationsFixture.Key);
            request.Headers.Add(header, value);
        }

        using var response = await anonymous.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("another site", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.Null(await OrdersTable.ScalarAsync(Deployment.Control, "SELECT job_name FROM sync_job_pauses WHERE job_name = 'orders-ops'"));
    }

    [Fact]
    public async Task The_api_answers_only_its_own_host_names()
    {
        using var rebound = Keyed(HttpMethod.Get, "/api/dead-letters");
        rebound.Headers.Host = "attacker.example";

        using var response = await Deployment.Http.SendAsync(rebound);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("Coordinator__AllowedHosts", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        using var own = await Deployment.Http.SendAsync(Keyed(HttpMethod.Get, "/api/dead-letters"));
        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
    }

    [Fact]
    public async Task A_bad_request_answers_problem_json_that_names_the_fix()
    {
        using var request = Keyed(HttpMethod.Post, "/api/jobs/no-such-job/pause");
        using var response = await Deployment.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("orders-ops", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        using var malformed = Keyed(HttpMethod.Post, "/api/jobs/orders-ops/dead-letters/replay");
        malformed.Content = new StringContent("{not json", System.Text.Encoding.UTF8, "application/json");
        using var bad = await Deployment.Http.SendAsync(malformed);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Health_ready_checks_postgres_and_rabbitmq_and_openapi_is_served()
    {
        Assert.Equal(HttpStatusCode.OK, (await Deployment.Http.GetAsync("/health/live")).StatusCode);
        var ready = await Deployment.Http.GetFromJsonAsync<JsonElement>("/health/ready");
        var names = ready.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.Contains("postgresql", names);
        Assert.True(names.Count >= 2, $"expected the bus check too: {string.Join(", ", names)}");
        var openApi = await Deployment.Http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        Assert.True(openApi.GetProperty("paths").TryGetProperty("/api/jobs/{name}/pause", out _));
    }

    [Fact]
    public async Task Pause_stops_scheduled_runs_while_the_others_still_tick()
    {
        using (var pause = Keyed(HttpMethod.Post, "/api/jobs/orders-paused/pause"))
        {
            (await Deployment.Http.SendAsync(pause)).EnsureSuccessStatusCode();
        }

        var pausedAt = (DateTime)(await OrdersTable.ScalarAsync(Deployment.Control, "SELECT paused_at FROM sync_job_pauses WHERE job_name = 'orders-paused'"))!;
        // Both jobs share the cron "* * * * *": once the ticking one has a scheduled run after the
        // pause, the same tick has passed for the paused one.
        var deadline = DateTime.UtcNow.AddSeconds(150);
        while (await ScheduledRunsAfterAsync("orders-ticking", pausedAt) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the ticking job's schedule never fired\n" + Deployment.Logs());
            await Task.Delay(500);
        }

        Assert.Equal(0L, await ScheduledRunsAfterAsync("orders-paused", pausedAt));
        var jobs = await Deployment.Http.GetFromJsonAsync<JsonElement>("/api/jobs");
        Assert.True(jobs.EnumerateArray().Single(j => j.GetProperty("name").GetString() == "orders-paused").GetProperty("paused").GetBoolean());
    }

    [Fact]
    public async Task Cli_run_follow_exits_0_and_reset_moves_the_watermark_back()
    {
        await OrdersTable.SeedAsync(Deployment.Source, "orders_ops", 1, 50);
        var (code, output) = await CliAsync("run", "orders-ops", "--follow", "--json");
        Assert.True(code == 0, output);
        var run = JsonDocument.Parse(output).RootElement;
        Assert.Equal("Completed", run.GetProperty("state").GetString());
        Assert.Equal(50L, await OrdersTable.CountAsync(Deployment.Destination, "orders_ops"));
        Assert.NotNull(await OrdersTable.ScalarAsync(Deployment.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = 'orders-ops'"));

        var (showCode, show) = await CliAsync("run", "show", run.GetProperty("runId").GetString()!, "--json");
        Assert.True(showCode == 0, show);
        Assert.True(JsonDocument.Parse(show).RootElement.GetProperty("batches").GetInt32() >= 1);

        var (resetCode, reset) = await CliAsync("reset", "orders-ops", "--yes", "--json");
        Assert.True(resetCode == 0, reset);
        Assert.NotNull(JsonDocument.Parse(reset).RootElement.GetProperty("previousWatermark").GetString());
        Assert.Null(await OrdersTable.ScalarAsync(Deployment.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = 'orders-ops'"));

        var (rerunCode, rerun) = await CliAsync("run", "orders-ops", "--follow", "--json");
        Assert.True(rerunCode == 0, rerun);
        Assert.Equal(50L, JsonDocument.Parse(rerun).RootElement.GetProperty("extractedRows").GetInt64());

        var (jobsCode, jobs) = await CliAsync("jobs", "--json");
        Assert.True(jobsCode == 0, jobs);
        Assert.Equal(Directory.GetFiles(Deployment.JobsDirectory, "*.yml").Length, JsonDocument.Parse(jobs).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Cli_run_follow_exits_non_zero_when_the_run_fails()
    {
        await OrdersTable.SeedAsync(Deployment.Source, "orders_broken", 1, 10);
        await OrdersTable.ExecuteAsync(Deployment.Source, "DROP TABLE orders_broken");
        var (code, output) = await CliAsync("run", "orders-broken", "--follow", "--json");
        Assert.True(code != 0, output);
    }

    [Fact]
    public async Task A_cancelled_run_ends_Failed_with_the_reason_and_the_next_run_reads_from_the_unchanged_watermark()
    {
        const string job = "orders-cancel";
        Guid runId;
        await using (var gate = await Failures.SourceGate.CloseAsync(Deployment.Source))
        {
            using (var start = await Deployment.Http.SendAsync(Keyed(HttpMethod.Post, $"/api/jobs/{job}/runs")))
            {
                Assert.Equal(HttpStatusCode.Accepted, start.StatusCode);
                runId = (await start.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("runId").GetGuid();
            }

            await gate.WaitUntilReachedAsync(Deployment.Logs);

            var (code, printed) = await CliAsync("cancel", runId.ToString(), "--reason", "wrong day");
            Assert.True(code == 0, printed);
            var cancelled = await Deployment.WaitForRunAsync(runId, TimeSpan.FromMinutes(1));
            Assert.Equal(("Failed", "Cancelled by the operator: wrong day"), (cancelled.State, cancelled.FailureReason));
            using (var again = await Deployment.Http.SendAsync(Keyed(HttpMethod.Post, $"/api/runs/{runId}/cancel")))
            {
                Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            }

            Assert.Null(await OrdersTable.ScalarAsync(Deployment.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = $1", job));
            await gate.OpenAsync();
        }

        // Its extraction goes on once the source answers (what it sends is idempotent, and refused by the
        // fence once the next run loads); the cancelled run counts none of it, and the next run reads
        // every row again from the unchanged (absent) watermark.
        var (nextCode, next) = await CliAsync("run", job, "--follow", "--json");
        Assert.True(nextCode == 0, $"{next}\n{Deployment.Logs()}");
        Assert.Equal(300L, JsonDocument.Parse(next).RootElement.GetProperty("processed").GetInt64());
        Assert.Equal(await OrdersTable.DigestAsync(Deployment.Source, "orders_cancel"), await OrdersTable.DigestAsync(Deployment.Destination, "orders_cancel"));
        Assert.Equal(0L, Convert.ToInt64(await OrdersTable.ScalarAsync(Deployment.Control, "SELECT count(*) FROM sync_run_batches WHERE run_id = $1", runId)));
        using var unknown = await Deployment.Http.SendAsync(Keyed(HttpMethod.Post, $"/api/runs/{Guid.NewGuid()}/cancel"));
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }

    [Fact]
    public async Task A_discarded_dead_letter_is_kept_marked_and_never_replayed()
    {
        const string job = "orders-discard";
        await OrdersTable.SeedAsync(Deployment.Source, "orders_discard", 1, 20);
        await OrdersTable.ExecuteAsync(Deployment.Source, "UPDATE orders_discard SET amount = -1 WHERE id IN (3, 7)");
        var (code, output) = await CliAsync("run", job, "--follow", "--json");
        Assert.True(code == 0, output);
        // The dead letters by the key of their record: the one of row 3 is discarded.
        var letters = (await Deployment.Http.GetFromJsonAsync<JsonElement>($"/api/dead-letters?job={job}")).EnumerateArray()
            .OrderBy(d => d.GetProperty("record").GetProperty("id").GetString() == "3" ? 0 : 1)
            .Select(d => d.GetProperty("id").GetInt64())
            .ToList();
        Assert.Equal(2, letters.Count);

        var (discardCode, discarded) = await CliAsync("dead-letters", "discard", letters[0].ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        Assert.True(discardCode == 0, discarded);
        Assert.Equal("discarded", JsonDocument.Parse(discarded).RootElement.GetProperty("status").GetString());
        using (var again = await Deployment.Http.SendAsync(Keyed(HttpMethod.Post, $"/api/dead-letters/{letters[0]}/discard")))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        }

        // The source fixed: a replay carries only the one still pending; the discarded row stays out.
        await OrdersTable.ExecuteAsync(Deployment.Source, "UPDATE orders_discard SET amount = 5 WHERE id IN (3, 7)");
        var (replayCode, replayed) = await CliAsync("dead-letters", "replay", job, "--json");
        Assert.True(replayCode == 0, replayed);
        var replayRun = await Deployment.WaitForRunAsync(JsonDocument.Parse(replayed).RootElement.GetProperty("runId").GetGuid(), TimeSpan.FromMinutes(1));
        Assert.True(replayRun.State == "Completed", $"{replayRun}\n{Deployment.Logs()}");
        Assert.Equal([(letters[0], "discarded"), (letters[1], "replayed")], (await Deployment.Http.GetFromJsonAsync<JsonElement>($"/api/dead-letters?job={job}"))
            .EnumerateArray().Select(d => (d.GetProperty("id").GetInt64(), d.GetProperty("status").GetString())).OrderBy(d => d.Item1));
        Assert.Equal(19L, await OrdersTable.CountAsync(Deployment.Destination, "orders_discard"));
        var kept = (long[]?)await OrdersTable.ScalarAsync(Deployment.Destination, "SELECT array_agg(id ORDER BY id) FROM orders_discard WHERE id IN (3, 7)");
        Assert.Equal(new long[] { 7 }, kept);
    }

    private HttpRequestMessage Keyed(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Add("X-Api-Key", OperationsFixture.Key);
        return request;
    }

    private async Task<long> ScheduledRunsAfterAsync(string job, DateTime after) =>
        (long)(await OrdersTable.ScalarAsync(Deployment.Control,
            "SELECT count(*) FROM sync_runs WHERE job_name = $1 AND trigger = 'schedule' AND requested_at > $2", job, after))!;

    private Task<(int Code, string Output)> CliAsync(params string[] args) => Deployment.CliAsync(OperationsFixture.Key, args);
}
