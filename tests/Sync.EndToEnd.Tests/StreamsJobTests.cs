using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// One job file with <c>streams: [public.*]</c> and an exclusion follows every other table of the
/// source schema through the four services: each stream is a job of its own (JOB.TABLE) with its own
/// watermark, resolved against the live catalog by the Extractor (issue 18, item 1).
/// </summary>
public sealed class StreamsJobTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly string[] Tables = ["customers", "orders", "products"];

    private const string Schema = """
        CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL, total numeric(12,2) NOT NULL, changed_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE products (sku text PRIMARY KEY, price numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
        """;

    [Fact]
    public async Task A_streams_job_syncs_each_matched_table_by_cursor_with_a_watermark_per_stream()
    {
        await using var sync = await SyncDeployment.CreateAsync("streams");
        await OrdersTable.ExecuteAsync(sync.Source, Schema + "CREATE TABLE audit_log (entry text NOT NULL);");
        await OrdersTable.ExecuteAsync(sync.Destination, Schema);
        await OrdersTable.ExecuteAsync(sync.Source, """
            INSERT INTO customers (id, name) SELECT g, 'customer ' || g FROM generate_series(1, 250) g;
            INSERT INTO orders (id, customer_id, total) SELECT g, g % 250 + 1, g * 1.5 FROM generate_series(1, 420) g;
            INSERT INTO products (sku, price) SELECT 'sku-' || g, g FROM generate_series(1, 130) g;
            INSERT INTO audit_log SELECT 'entry ' || g FROM generate_series(1, 10) g;
            """);
        sync.WriteJob("shop.yml", """
            name: shop
            batch_size: 100
            source:
              type: postgres
              connection: source
            destination:
              type: postgres
              connection: destination
            streams:
              - public.*
              - table: public.orders
                cursor: changed_at
            exclude: [public.audit_log]
            """);
        await sync.StartAsync();

        var first = await RunAllAsync(sync);

        Assert.Equal(["shop.customers", "shop.orders", "shop.products"], first.Keys.Order(StringComparer.Ordinal));
        Assert.All(first.Values, run => Assert.Equal("Completed", run.State));
        Assert.Equal((250L, 420L, 130L), (first["shop.customers"].Inserted, first["shop.orders"].Inserted, first["shop.products"].Inserted));
        await AssertEqualTablesAsync(sync);
        var watermarks = await WatermarksAsync(sync);
        Assert.Equal(["shop.customers", "shop.orders", "shop.products"], watermarks.Keys.Order(StringComparer.Ordinal));

        await OrdersTable.ExecuteAsync(sync.Source, """
            UPDATE customers SET name = name || ' (moved)', updated_at = now() WHERE id <= 3;
            INSERT INTO orders (id, customer_id, total) VALUES (421, 1, 99.99), (422, 2, 5.00);
            INSERT INTO products (sku, price) VALUES ('sku-new', 1.25);
            """);
        var second = await RunAllAsync(sync);

        Assert.All(second.Values, run => Assert.Equal("Completed", run.State));
        Assert.Equal((0L, 3L), (second["shop.customers"].Inserted, second["shop.customers"].Updated));
        Assert.Equal((2L, 0L), (second["shop.orders"].Inserted, second["shop.orders"].Updated));
        Assert.Equal((1L, 0L), (second["shop.products"].Inserted, second["shop.products"].Updated));
        await AssertEqualTablesAsync(sync);
        var moved = await WatermarksAsync(sync);
        Assert.All(Tables, table => Assert.NotEqual(watermarks[$"shop.{table}"], moved[$"shop.{table}"]));

        // syncctl run of a streams job follows a run per stream; nothing changed, so none loads a row.
        var (runCode, runOutput) = await sync.CliAsync(null, "run", "shop", "--follow");
        Assert.Equal(0, runCode);
        Assert.All(Tables, table => Assert.Contains($"shop.{table}:", runOutput, StringComparison.Ordinal));
        Assert.Equal(3, runOutput.Split("inserted 0  updated 0").Length - 1);
        Assert.Equal(moved, await WatermarksAsync(sync));

        // The runs of a streams job by cursor are its streams' runs, newest first, each naming its stream.
        var listed = JsonSerializer.Deserialize<List<ListedRun>>(await sync.Http.GetStringAsync("/api/jobs/shop/runs?limit=500"), Json)!;
        Assert.Equal(9, listed.Count);
        Assert.All(Tables, table => Assert.Equal(3, listed.Count(r => r.JobName == $"shop.{table}")));
        Assert.Equal(listed.OrderByDescending(r => r.StartedAt).Select(r => r.RunId), listed.Select(r => r.RunId));
        var (runsCode, runsOutput) = await sync.CliAsync(null, "runs", "shop", "--limit", "4");
        var runLines = runsOutput.Split('\n').Where(l => l.StartsWith("run ", StringComparison.Ordinal)).ToList();
        Assert.True(runsCode == 0 && runLines.Count == 4, runsOutput);
        Assert.Equal(listed.Take(4).Select(r => $"run {r.RunId}  {r.JobName}  Completed  "), runLines.Select(l => l[..l.IndexOf("processed", StringComparison.Ordinal)]));
        var (showCode, shown) = await sync.CliAsync(null, "run", "show", listed[0].RunId.ToString());
        Assert.True(showCode == 0 && shown.StartsWith($"run {listed[0].RunId}  {listed[0].JobName}  Completed  ", StringComparison.Ordinal), shown);

        var (code, discovered) = await sync.CliAsync(null, "discover", "source", "--destination", "destination");
        Assert.Equal(0, code);
        Assert.Contains("  - public.customers", discovered, StringComparison.Ordinal);
        Assert.Contains("  # - public.audit_log    # no primary key", discovered, StringComparison.Ordinal);
        Assert.Contains("  # - public.orders    # no updated_at timestamptz column", discovered, StringComparison.Ordinal);
    }

    // One start of the streams job starts one run per stream; each is followed to its end.
    private static async Task<Dictionary<string, RunResult>> RunAllAsync(SyncDeployment sync)
    {
        using var response = await sync.Http.PostAsync("/api/jobs/shop/runs", content: null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {body}\n{sync.Logs()}");
        var started = JsonSerializer.Deserialize<StreamRuns>(body, Json)!;
        Assert.Empty(started.StillActive);
        var runs = new Dictionary<string, RunResult>(StringComparer.Ordinal);
        foreach (var run in started.Runs)
        {
            runs[run.JobName] = await sync.WaitForRunAsync(run.RunId);
        }

        return runs;
    }

    private static async Task AssertEqualTablesAsync(SyncDeployment sync)
    {
        foreach (var table in Tables)
        {
            Assert.Equal(await DigestAsync(sync.Source, table), await DigestAsync(sync.Destination, table));
        }

        Assert.Null(await OrdersTable.ScalarAsync(sync.Destination, "SELECT to_regclass('public.audit_log')::text"));
    }

    private static async Task<string> DigestAsync(string connectionString, string table) =>
        (string)(await OrdersTable.ScalarAsync(connectionString, $"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM {table} t"))!;

    private static async Task<Dictionary<string, string>> WatermarksAsync(SyncDeployment sync)
    {
        var watermarks = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var table in Tables)
        {
            if (await OrdersTable.ScalarAsync(sync.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = $1", $"shop.{table}") is string cursor)
            {
                watermarks[$"shop.{table}"] = cursor;
            }
        }

        Assert.Null(await OrdersTable.ScalarAsync(sync.Control, "SELECT key FROM sync_watermarks WHERE key = 'shop.audit_log'"));
        return watermarks;
    }

    private sealed record ListedRun(Guid RunId, string JobName, DateTimeOffset StartedAt);

    private sealed record StreamRuns(string JobName, List<RunStartedResult> Runs, List<string> StillActive);
}
