using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Dead letters of a streams job (issue 18): two streams whose tables share ids and shape, and a
/// destination CHECK on one of them only. A row that breaks it is recorded under its stream, and
/// once the destination is fixed its replay reads that stream's source table as it is now and loads
/// that stream's destination table, the other stream's table untouched; for a cdc streams job (one
/// job, one slot for both tables) and for a streams job by cursor (a job per stream). A dead letter
/// naming no stream the job follows is refused a replay rather than loaded into a guessed table; a
/// cdc stream's dead letters replay alone by the stream's name (JOB.STREAM).
/// </summary>
public sealed class StreamsDeadLetterTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    // The calls made while the Extractor is down wait this long for it rather than 20 s each.
    private const string StageRequestTimeout = "00:00:05";

    // The same ids and shapes in both tables: a record read from or loaded into the other stream's table shows in the digests.
    private const string Schema = """
        CREATE TABLE public.parts (id bigint PRIMARY KEY, label text NOT NULL, qty integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE public.tools (id bigint PRIMARY KEY, label text NOT NULL, qty integer NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
        """;

    private const string Seed = """
        INSERT INTO public.parts (id, label, qty) SELECT g, 'part ' || g, g FROM generate_series(1, 50) g;
        INSERT INTO public.tools (id, label, qty) SELECT g, 'tool ' || g, CASE WHEN g = 7 THEN -1 ELSE g END FROM generate_series(1, 50) g;
        """;

    [Fact]
    public async Task A_cdc_streams_job_records_a_rejected_row_under_its_stream_and_replays_it_into_that_streams_table()
    {
        await using var sync = await CdcDeployment.CreateAsync("dlcdc");
        sync.SetEnvironment("Coordinator__StageRequestTimeout", StageRequestTimeout);
        try
        {
            await CreateTablesAsync(sync);
            sync.WriteJob("shop.yml", """
                name: shop
                mode: cdc
                batch_size: 100
                source: { type: postgres, connection: source }
                destination: { type: postgres, connection: destination }
                streams: [public.parts, public.tools]
                """);
            await sync.StartAsync();

            // The first run copies both tables (tools 7 refused); the second streams a change refused again.
            await RunAsync(sync, "shop");
            await OrdersTable.ExecuteAsync(sync.Source, "INSERT INTO public.parts (id, label, qty) VALUES (51, 'part 51', 51); INSERT INTO public.tools (id, label, qty) VALUES (51, 'tool 51', -5);");
            await RunAsync(sync, "shop");

            var letters = await DeadLettersAsync(sync, "job=shop");
            Assert.Equal([7L, 51L], letters.Select(l => l.RecordId).Order());
            Assert.All(letters, l => Assert.Equal(("shop", "shop.tools", "load", "pending"), (l.JobName, l.Stream, l.Stage, l.Status)));
            Assert.Equal(2, (await DeadLettersAsync(sync, "stream=shop.tools")).Count);
            Assert.Empty(await DeadLettersAsync(sync, "stream=shop.parts"));
            var (listCode, listed) = await sync.CliAsync(null, "dead-letters", "list", "--job", "shop");
            Assert.True(listCode == 0 && listed.Contains("STREAM", StringComparison.Ordinal) && listed.Split("shop.tools").Length == 3, listed);

            // Restarted, the Coordinator has not resolved the job's streams (the Extractor, which reads the catalog, is down):
            // a replay of the job or of a stream resolves them first as a run's start does, and says the Extractor did not
            // answer rather than that the job is not defined; its schedule pauses by the file alone, and its slot stays its own.
            await sync.KillServiceAsync("Extractor");
            await sync.RestartCoordinatorAsync();
            await AssertAnswersAsync(
                sync,
                (HttpMethod.Post, "/api/jobs/shop/dead-letters/replay", new { ids = Array.Empty<long>() }, 503),
                (HttpMethod.Post, "/api/jobs/shop.tools/dead-letters/replay", new { ids = Array.Empty<long>() }, 503),
                (HttpMethod.Delete, "/api/jobs/shop/watermark", null, 503),
                (HttpMethod.Post, "/api/jobs/shop/pause", null, 200),
                (HttpMethod.Post, "/api/jobs/shop/resume", null, 200),
                (HttpMethod.Delete, "/api/jobs/shop/cdc", null, 409));
            Assert.Equal(1L, await OrdersTable.ScalarAsync(sync.Control, "SELECT count(*) FROM sync_cdc_slots WHERE job = 'shop'"));
            await sync.StartServiceAsync("Extractor");
            await WaitForStreamsAsync(sync, "shop");

            // A dead letter that names no stream of the job (as one kept before streams were) is refused, and nothing is replayed.
            await OrdersTable.ExecuteAsync(sync.Control, "UPDATE dead_letters SET stream = NULL WHERE id = $1", letters[0].Id);
            using (var refused = await sync.Http.PostAsJsonAsync("/api/jobs/shop/dead-letters/replay", new { ids = Array.Empty<long>() }))
            {
                var body = await refused.Content.ReadAsStringAsync();
                Assert.True(refused.StatusCode == HttpStatusCode.Conflict, $"{(int)refused.StatusCode}: {body}");
                Assert.Contains($"name no stream the job follows now ({letters[0].Id})", body, StringComparison.Ordinal);
            }

            Assert.All(await DeadLettersAsync(sync, "job=shop"), l => Assert.Equal("pending", l.Status));
            await OrdersTable.ExecuteAsync(sync.Control, "UPDATE dead_letters SET stream = 'shop.tools' WHERE id = $1", letters[0].Id);

            // The fix, and a change to the row since it was set aside that no run has read: the replay loads the row as the source has it now.
            await OrdersTable.ExecuteAsync(sync.Destination, "ALTER TABLE public.tools DROP CONSTRAINT qty_not_negative");
            await OrdersTable.ExecuteAsync(sync.Source, "UPDATE public.tools SET label = 'tool 7 (fixed)' WHERE id = 7");
            // A stream's dead letters replay by its name (JOB.STREAM) as a replay run of the job: none are parts'.
            using (var none = await sync.Http.PostAsJsonAsync("/api/jobs/shop.parts/dead-letters/replay", new { ids = Array.Empty<long>() }))
            {
                var body = await none.Content.ReadAsStringAsync();
                Assert.True(none.StatusCode == HttpStatusCode.OK, $"{(int)none.StatusCode}: {body}");
                Assert.Equal(JsonValueKind.Null, JsonDocument.Parse(body).RootElement.GetProperty("runId").ValueKind);
            }

            Assert.All(await DeadLettersAsync(sync, "job=shop"), l => Assert.Equal("pending", l.Status));
            var (replayCode, replayed) = await sync.CliAsync(null, "dead-letters", "replay", "shop", "--stream", "shop.tools");
            Assert.True(replayCode == 0 && replayed.StartsWith("replay run ", StringComparison.Ordinal) && replayed.Contains(": 2 dead letter(s)", StringComparison.Ordinal), replayed);
            var replay = await sync.WaitForRunAsync(Guid.Parse(replayed["replay run ".Length..replayed.IndexOf(':', StringComparison.Ordinal)]));

            Assert.Equal(("shop", "Completed", 2L, 0L), (replay.JobName, replay.State, replay.Inserted, replay.Errors));
            await AssertTablesEqualAsync(sync);
            Assert.Equal("tool 7 (fixed)", await OrdersTable.ScalarAsync(sync.Destination, "SELECT label FROM public.tools WHERE id = 7"));
            Assert.All(await DeadLettersAsync(sync, "job=shop"), l => Assert.Equal(("replayed", replay.RunId), (l.Status, l.ReplayRunId)));

            // The whole job's verification keeps each cdc stream's result under its name; the latest is served for the job and for a stream.
            var verified = await VerifyAsync(sync, "shop");
            Assert.True(verified.Outcome == "Equal", string.Join("; ", verified.Streams.Select(s => $"{s.JobName}: {s.Outcome}")));
            Assert.Equal(["shop.parts", "shop.tools"], verified.Streams.Select(s => s.JobName).Order(StringComparer.Ordinal));
            await AssertLatestVerificationAsync(sync, "shop", verified);
            // One cdc stream verifies alone by its name, although it is no job of its own.
            using (var one = await sync.Http.PostAsync("/api/jobs/shop.tools/verify", content: null))
            {
                var body = await one.Content.ReadAsStringAsync();
                Assert.True(one.StatusCode == HttpStatusCode.OK, $"{(int)one.StatusCode}: {body}");
                var stream = JsonSerializer.Deserialize<StreamVerification>(body, Json)!;
                Assert.Equal(("shop.tools", "Equal"), (stream.JobName, stream.Outcome));
                Assert.Equal(await OrdersTable.CountAsync(sync.Source, "public.tools"), stream.SourceRows);
            }
        }
        finally
        {
            await sync.ReleaseCdcSlotsAsync();
        }
    }

    [Fact]
    public async Task A_cursor_streams_job_records_a_rejected_row_under_its_stream_and_replays_it_into_that_streams_table()
    {
        await using var sync = await SyncDeployment.CreateAsync("dlcursor");
        sync.SetEnvironment("Coordinator__StageRequestTimeout", StageRequestTimeout);
        await CreateTablesAsync(sync);
        // Two refused rows in each stream.
        await OrdersTable.ExecuteAsync(sync.Source, "UPDATE public.tools SET qty = -2 WHERE id = 8");
        await OrdersTable.ExecuteAsync(sync.Destination, "ALTER TABLE public.parts ADD CONSTRAINT qty_not_13_14 CHECK (qty NOT IN (13, 14))");
        sync.WriteJob("stock.yml", """
            name: stock
            batch_size: 100
            source: { type: postgres, connection: source, cursor: updated_at }
            destination: { type: postgres, connection: destination }
            streams: [public.parts, public.tools]
            """);
        await sync.StartAsync();

        await RunAsync(sync, "stock");

        var tools = await DeadLettersAsync(sync, "stream=stock.tools");
        var parts = await DeadLettersAsync(sync, "stream=stock.parts");
        Assert.Equal([7L, 8L], tools.Select(l => l.RecordId).Order());
        Assert.Equal([13L, 14L], parts.Select(l => l.RecordId).Order());
        Assert.All(tools.Concat(parts), l => Assert.Equal((l.Stream, "pending"), (l.JobName, l.Status)));
        long Id(List<StreamDeadLetter> letters, long record) => letters.Single(l => l.RecordId == record).Id;

        // Restarted, the Coordinator has not resolved the job's streams (the Extractor, which reads the catalog, is down):
        // a call on a stream, or a replay of the whole job, resolves them first as a run's start does, and says the
        // Extractor did not answer rather than that the job is not defined. The whole job's schedule pauses by its file
        // alone; it has no watermark of its own (each stream has one).
        await sync.KillServiceAsync("Extractor");
        await sync.RestartCoordinatorAsync();
        var cursorValue = new { value = "2020-01-01T00:00:00Z" };
        await AssertAnswersAsync(
            sync,
            (HttpMethod.Post, "/api/jobs/stock/dead-letters/replay", new { ids = Array.Empty<long>() }, 503),
            (HttpMethod.Post, "/api/jobs/stock.tools/dead-letters/replay", new { ids = Array.Empty<long>() }, 503),
            (HttpMethod.Put, "/api/jobs/stock.tools/watermark", cursorValue, 503),
            (HttpMethod.Post, "/api/jobs/stock.tools/backfill", new { from = "2020-01-01T00:00:00Z", to = "2030-01-01T00:00:00Z" }, 503),
            (HttpMethod.Delete, "/api/jobs/stock.tools/watermark", null, 503),
            (HttpMethod.Post, "/api/jobs/stock.tools/pause", null, 503),
            (HttpMethod.Post, "/api/jobs/stock.tools/verify", null, 503),
            (HttpMethod.Post, "/api/jobs/stock/pause", null, 200),
            (HttpMethod.Post, "/api/jobs/stock/resume", null, 200),
            (HttpMethod.Put, "/api/jobs/stock/watermark", cursorValue, 409),
            (HttpMethod.Get, "/api/jobs/stock/runs", null, 200));
        await sync.StartServiceAsync("Extractor");
        await WaitForStreamsAsync(sync, "stock");

        // The job's listing shows its streams paused while the whole job is, and not after it resumes.
        foreach (var (call, paused) in new[] { ("pause", true), ("resume", false) })
        {
            using (var response = await sync.Http.PostAsync($"/api/jobs/stock/{call}", content: null))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            var listed = (await sync.Http.GetFromJsonAsync<List<ListedJob>>("/api/jobs", Json))!.Where(j => j.Name.StartsWith("stock.", StringComparison.Ordinal)).ToList();
            Assert.Equal(["stock.parts", "stock.tools"], listed.Select(j => j.Name).Order(StringComparer.Ordinal));
            Assert.All(listed, j => Assert.True(j.Paused == paused, $"{j.Name} after {call}: paused {j.Paused}"));
        }

        await OrdersTable.ExecuteAsync(sync.Destination, "ALTER TABLE public.tools DROP CONSTRAINT qty_not_negative; ALTER TABLE public.parts DROP CONSTRAINT qty_not_13_14;");
        await OrdersTable.ExecuteAsync(sync.Source, "UPDATE public.tools SET label = 'tool 7 (fixed)' WHERE id = 7");

        // The whole job replays by stream, a replay run per stream with dead letters (of the body's ids, across streams);
        // a stream whose run is active keeps it and is named, as a start of the job's runs does.
        var busy = Guid.NewGuid();
        await OrdersTable.ExecuteAsync(
            sync.Control,
            "INSERT INTO sync_runs (correlation_id, current_state, job_name, trigger, requested_at, started_at, updated_at) VALUES ($1, 'Extracting', 'stock.parts', 'api', now(), now(), now())",
            busy);
        var (code, first) = await ReplayStreamsAsync(sync, "stock", Id(tools, 7), Id(parts, 13));
        Assert.True(code == HttpStatusCode.Accepted, $"{(int)code}: {first}");
        Assert.Equal(["stock.parts"], first!.StillActive);
        var toolRun = Assert.Single(first.Runs);
        Assert.Equal(("stock.tools", 1), (toolRun.JobName, toolRun.DeadLetters));
        var replay = await sync.WaitForRunAsync(toolRun.RunId!.Value);
        Assert.Equal(("stock.tools", "Completed", 1L, 0L), (replay.JobName, replay.State, replay.Inserted, replay.Errors));
        Assert.Equal(
            [(7L, "replayed"), (8L, "pending"), (13L, "pending"), (14L, "pending")],
            (await DeadLettersAsync(sync, "limit=1000")).Select(l => (l.RecordId, l.Status)).Order());

        // Every stream with dead letters to replay busy: 409, nothing replayed.
        var (refusedCode, _) = await ReplayStreamsAsync(sync, "stock", Id(parts, 13));
        Assert.Equal(HttpStatusCode.Conflict, refusedCode);
        Assert.All(await DeadLettersAsync(sync, "stream=stock.parts"), l => Assert.Equal("pending", l.Status));
        await OrdersTable.ExecuteAsync(sync.Control, "UPDATE sync_runs SET current_state = 'Failed', finished_at = now() WHERE correlation_id = $1", busy);

        // syncctl replays the rest, a run per stream named on its line.
        var (replayCode, replayed) = await sync.CliAsync(null, "dead-letters", "replay", "stock");
        var runLines = replayed.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith("replay run ", StringComparison.Ordinal)).ToList();
        Assert.True(replayCode == 0 && runLines.Count == 2, replayed);
        Assert.EndsWith("  stock.parts: 2 dead letter(s)", runLines[0], StringComparison.Ordinal);
        Assert.EndsWith("  stock.tools: 1 dead letter(s)", runLines[1], StringComparison.Ordinal);
        foreach (var line in runLines)
        {
            var run = await sync.WaitForRunAsync(Guid.Parse(line["replay run ".Length..line.IndexOf(' ', "replay run ".Length)]));
            Assert.True(run.State == "Completed" && run.Errors == 0, $"{run.JobName}: {run.State} {run.FailureReason}\n{sync.Logs()}");
        }

        await AssertTablesEqualAsync(sync);
        Assert.Equal("tool 7 (fixed)", await OrdersTable.ScalarAsync(sync.Destination, "SELECT label FROM public.tools WHERE id = 7"));
        var letters = await DeadLettersAsync(sync, "limit=1000");
        Assert.Equal(4, letters.Count);
        Assert.All(letters, l => Assert.True(l is { Status: "replayed", ReplayRunId: not null }, $"{l.Id}: {l.Status}"));

        // Nothing pending: 200 and no run.
        var (noneCode, none) = await ReplayStreamsAsync(sync, "stock");
        Assert.True(noneCode == HttpStatusCode.OK && none!.Runs.Count == 0, $"{(int)noneCode}");

        var verified = await VerifyAsync(sync, "stock");
        Assert.True(verified.Outcome == "Equal", string.Join("; ", verified.Streams.Select(s => $"{s.JobName}: {s.Outcome}")));
        Assert.Equal(["stock.parts", "stock.tools"], verified.Streams.Select(s => s.JobName).Order(StringComparer.Ordinal));
        await AssertLatestVerificationAsync(sync, "stock", verified);
    }

    private static async Task CreateTablesAsync(SyncDeployment sync)
    {
        await OrdersTable.ExecuteAsync(sync.Source, Schema + Seed);
        await OrdersTable.ExecuteAsync(sync.Destination, Schema + "ALTER TABLE public.tools ADD CONSTRAINT qty_not_negative CHECK (qty >= 0);");
    }

    // One start of the streams job; every run it started is followed to its end, each Completed.
    private static async Task RunAsync(SyncDeployment sync, string job)
    {
        using var response = await sync.Http.PostAsync($"/api/jobs/{job}/runs", content: null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {body}\n{sync.Logs()}");
        foreach (var started in JsonSerializer.Deserialize<StreamRuns>(body, Json)!.Runs)
        {
            var run = await sync.WaitForRunAsync(started.RunId);
            Assert.True(run.State == "Completed", $"{run.JobName}: {run.State} {run.FailureReason}\n{sync.Logs()}");
        }
    }

    private static async Task<(HttpStatusCode Code, StreamReplays? Body)> ReplayStreamsAsync(SyncDeployment sync, string job, params long[] ids)
    {
        using var response = await sync.Http.PostAsJsonAsync($"/api/jobs/{job}/dead-letters/replay", new { ids });
        var body = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, response.IsSuccessStatusCode ? JsonSerializer.Deserialize<StreamReplays>(body, Json) : null);
    }

    // Each call answers its status; a failure lists every call with its answer's status and title.
    private static async Task AssertAnswersAsync(SyncDeployment sync, params (HttpMethod Method, string Path, object? Body, int Status)[] calls)
    {
        var answers = new List<(string Call, int Expected, int Actual, string Body)>();
        foreach (var (method, path, body, status) in calls)
        {
            using var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
            using var response = await sync.Http.SendAsync(request);
            answers.Add(($"{method} {path}", status, (int)response.StatusCode, await response.Content.ReadAsStringAsync()));
        }

        Assert.True(
            answers.All(a => a.Expected == a.Actual),
            string.Join("\n", answers.Select(a => $"{a.Call}: expected {a.Expected}, got {a.Actual}{(a.Expected == a.Actual ? string.Empty : $" {a.Body[..Math.Min(a.Body.Length, 160)]}")}")));
    }

    // The Extractor started again: its streams resolve once it consumes (GET verify of a streams job resolves them).
    private static async Task WaitForStreamsAsync(SyncDeployment sync, string job)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (true)
        {
            using var response = await sync.Http.GetAsync($"/api/jobs/{job}/verify");
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, $"The streams of {job} did not resolve.\n{sync.Logs()}");
            await Task.Delay(500);
        }
    }

    // Each destination table equals its own source table: nothing of one stream went into the other's.
    private static async Task AssertTablesEqualAsync(SyncDeployment sync)
    {
        foreach (var table in new[] { "public.parts", "public.tools" })
        {
            var digest = CdcDeployment.Digest(table, "t.id", "(t.id, t.label, t.qty)");
            Assert.Equal(await OrdersTable.ScalarAsync(sync.Source, digest), await OrdersTable.ScalarAsync(sync.Destination, digest));
        }
    }

    private static async Task<StreamsVerification> VerifyAsync(SyncDeployment sync, string job)
    {
        using var response = await sync.Http.PostAsync($"/api/jobs/{job}/verify", content: null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
        return JsonSerializer.Deserialize<StreamsVerification>(body, Json)!;
    }

    // GET /api/jobs/JOB/verify answers each stream's latest result with the worst outcome, as the POST did; GET of a stream, its own.
    private static async Task AssertLatestVerificationAsync(SyncDeployment sync, string job, StreamsVerification verified)
    {
        using (var response = await sync.Http.GetAsync($"/api/jobs/{job}/verify"))
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
            var latest = JsonSerializer.Deserialize<StreamsVerification>(body, Json)!;
            Assert.Equal((verified.JobName, verified.Outcome, verified.ExitCode), (latest.JobName, latest.Outcome, latest.ExitCode));
            Assert.Equal(verified.Streams.OrderBy(s => s.JobName, StringComparer.Ordinal), latest.Streams.OrderBy(s => s.JobName, StringComparer.Ordinal));
        }

        foreach (var stream in verified.Streams)
        {
            using var response = await sync.Http.GetAsync($"/api/jobs/{stream.JobName}/verify");
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {body}");
            Assert.Equal(stream, JsonSerializer.Deserialize<StreamVerification>(body, Json));
        }
    }

    private static async Task<List<StreamDeadLetter>> DeadLettersAsync(SyncDeployment sync, string query) =>
        (await sync.Http.GetFromJsonAsync<List<StreamDeadLetter>>($"/api/dead-letters?{query}", Json))!;

    private sealed record ListedJob(string Name, bool Paused);

    private sealed record StreamsVerification(string JobName, string Outcome, int ExitCode, List<StreamVerification> Streams);

    private sealed record StreamVerification(Guid Id, string JobName, string Outcome, int ExitCode, long SourceRows, long DestinationRows);

    private sealed record StreamRuns(string JobName, List<RunStartedResult> Runs, List<string> StillActive);

    private sealed record StreamReplays(string JobName, List<ReplayRun> Runs, List<string> StillActive);

    private sealed record ReplayRun(Guid? RunId, string JobName, int DeadLetters);

    private sealed record StreamDeadLetter(long Id, string JobName, string? Stream, string Stage, string Status, JsonElement? Record, Guid? ReplayRunId)
    {
        public long RecordId => long.Parse(Record!.Value.GetProperty("id").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }
}
