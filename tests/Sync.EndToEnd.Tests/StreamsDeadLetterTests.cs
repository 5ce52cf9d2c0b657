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
        await CreateTablesAsync(sync);
        sync.WriteJob("stock.yml", """
            name: stock
            batch_size: 100
            source: { type: postgres, connection: source, cursor: updated_at }
            destination: { type: postgres, connection: destination }
            streams: [public.parts, public.tools]
            """);
        await sync.StartAsync();

        await RunAsync(sync, "stock");

        var letter = Assert.Single(await DeadLettersAsync(sync, "stream=stock.tools"));
        Assert.Equal(("stock.tools", "stock.tools", 7L, "pending"), (letter.JobName, letter.Stream, letter.RecordId, letter.Status));
        Assert.Empty(await DeadLettersAsync(sync, "stream=stock.parts"));

        await OrdersTable.ExecuteAsync(sync.Destination, "ALTER TABLE public.tools DROP CONSTRAINT qty_not_negative");
        await OrdersTable.ExecuteAsync(sync.Source, "UPDATE public.tools SET label = 'tool 7 (fixed)' WHERE id = 7");
        var replay = await ReplayAsync(sync, "stock.tools");

        Assert.Equal(("Completed", 1L, 0L), (replay.State, replay.Inserted, replay.Errors));
        await AssertTablesEqualAsync(sync);
        Assert.Equal("tool 7 (fixed)", await OrdersTable.ScalarAsync(sync.Destination, "SELECT label FROM public.tools WHERE id = 7"));
        var replayed = Assert.Single(await DeadLettersAsync(sync, "stream=stock.tools"));
        Assert.Equal(("replayed", replay.RunId), (replayed.Status, replayed.ReplayRunId));

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

    private static async Task<RunResult> ReplayAsync(SyncDeployment sync, string job)
    {
        using var response = await sync.Http.PostAsJsonAsync($"/api/jobs/{job}/dead-letters/replay", new { ids = Array.Empty<long>() });
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {body}");
        var run = await sync.WaitForRunAsync(JsonDocument.Parse(body).RootElement.GetProperty("runId").GetGuid());
        Assert.True(run.State == "Completed", $"{run.State}: {run.FailureReason}\n{sync.Logs()}");
        return run;
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

    private sealed record StreamsVerification(string JobName, string Outcome, int ExitCode, List<StreamVerification> Streams);

    private sealed record StreamVerification(Guid Id, string JobName, string Outcome, int ExitCode, long SourceRows, long DestinationRows);

    private sealed record StreamRuns(string JobName, List<RunStartedResult> Runs, List<string> StillActive);

    private sealed record StreamDeadLetter(long Id, string JobName, string? Stream, string Stage, string Status, JsonElement? Record, Guid? ReplayRunId)
    {
        public long RecordId => long.Parse(Record!.Value.GetProperty("id").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
    }
}
