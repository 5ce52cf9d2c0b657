using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>One deployment for <see cref="WatermarkBackfillTests"/>: jobs whose cursor is the id, so ranges read plainly.</summary>
public sealed class WatermarkBackfillFixture : IAsyncLifetime
{
    public SyncDeployment Deployment { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Deployment = await SyncDeployment.CreateAsync("wmark");
        foreach (var (job, table) in new[] { ("orders-wm", "orders_wm"), ("orders-bf", "orders_bf"), ("orders-busy", "orders_busy") })
        {
            await OrdersTable.CreateAsync(Deployment.Source, $"public.{table}");
            await OrdersTable.CreateAsync(Deployment.Destination, $"public.{table}");
            await OrdersTable.SeedAsync(Deployment.Source, $"public.{table}", 1, 100);
            Deployment.WriteJob($"{table}.yml", OrdersTable.Job(job, table).Replace("cursor: updated_at", "cursor: id", StringComparison.Ordinal));
        }

        await OrdersTable.CreateAsync(Deployment.Source, "public.orders_ts");
        await OrdersTable.CreateAsync(Deployment.Destination, "public.orders_ts");
        await OrdersTable.SeedAsync(Deployment.Source, "public.orders_ts", 1, 100);
        Deployment.WriteJob("orders_ts.yml", OrdersTable.Job("orders-ts", "orders_ts"));

        // Never run (no schedule): only its refusals are asked for.
        Deployment.WriteJob("orders_cdc.yml", """
            name: orders-cdc
            source: { type: postgres, connection: source, table: public.orders_wm, mode: cdc, primary_key: [id] }
            destination: { type: postgres, connection: destination, table: public.orders_wm, key: [id] }
            """);
        await Deployment.StartAsync();
    }

    public async Task DisposeAsync() => await Deployment.DisposeAsync();
}

/// <summary>
/// <c>syncctl watermark set</c> and <c>syncctl backfill</c> through the four services (issue 18, item 4):
/// the value is read as the cursor's type by the Extractor, a watermark set back re-syncs only the rows
/// after it, and a backfill re-loads exactly its range and leaves the watermark where it was.
/// </summary>
public sealed class WatermarkBackfillTests(WatermarkBackfillFixture fixture) : IClassFixture<WatermarkBackfillFixture>
{
    private SyncDeployment Sync => fixture.Deployment;

    [Fact]
    public async Task A_watermark_set_back_re_syncs_the_rows_after_it_and_only_those()
    {
        Assert.Equal("Completed", (await Sync.RunAsync("orders-wm")).State);
        Assert.Equal(100L, await OrdersTable.CountAsync(Sync.Destination, "public.orders_wm"));
        // Lost in the destination after the watermark, and changed behind the job's back before it.
        await OrdersTable.ExecuteAsync(Sync.Destination, "DELETE FROM public.orders_wm WHERE id > 60");
        await OrdersTable.ExecuteAsync(Sync.Destination, "UPDATE public.orders_wm SET note = 'kept' WHERE id = 10");

        var (badCode, bad) = await Sync.CliAsync(null, "watermark", "set", "orders-wm", "sixty");
        Assert.True(badCode == 2, bad);
        Assert.Contains("\"sixty\" is not a value of the cursor \"id\" (bigint)", bad, StringComparison.Ordinal);
        var (cdcCode, cdc) = await Sync.CliAsync(null, "watermark", "set", "orders-cdc", "5");
        Assert.True(cdcCode == 2, cdc);
        Assert.Contains("Cannot set the watermark of cdc job \"orders-cdc\"", cdc, StringComparison.Ordinal);

        var (code, output) = await Sync.CliAsync(null, "watermark", "set", "orders-wm", "60", "--json");
        Assert.True(code == 0, output);
        var answer = JsonDocument.Parse(output).RootElement;
        Assert.Equal("60", answer.GetProperty("watermark").GetString());
        Assert.Contains("\"100\"", answer.GetProperty("previousWatermark").GetString(), StringComparison.Ordinal);
        Assert.Equal("[\"60\"]", await OrdersTable.ScalarAsync(Sync.Control, "SELECT cursor->>'Values' FROM sync_watermarks WHERE key = 'orders-wm'"));
        Assert.Equal("api", await OrdersTable.ScalarAsync(Sync.Control, "SELECT metadata->>'set_by' FROM sync_watermarks WHERE key = 'orders-wm'"));

        var rerun = await Sync.RunAsync("orders-wm");
        Assert.Equal("Completed", rerun.State);
        Assert.Equal(40L, rerun.ExtractedRows);
        Assert.Equal(await DigestAsync(Sync.Source, "orders_wm", "id > 60"), await DigestAsync(Sync.Destination, "orders_wm", "id > 60"));
        Assert.Equal(100L, await OrdersTable.CountAsync(Sync.Destination, "public.orders_wm"));
        Assert.Equal("kept", await OrdersTable.ScalarAsync(Sync.Destination, "SELECT note FROM public.orders_wm WHERE id = 10"));
        Assert.Equal("[\"100\"]", await OrdersTable.ScalarAsync(Sync.Control, "SELECT cursor->>'Values' FROM sync_watermarks WHERE key = 'orders-wm'"));
    }

    [Fact]
    public async Task A_watermark_set_on_a_timestamp_cursor_reads_on_after_that_time_whatever_the_key()
    {
        // The job's position is (updated_at, id); the value set names the time alone.
        Assert.Equal("Completed", (await Sync.RunAsync("orders-ts")).State);
        await OrdersTable.ExecuteAsync(Sync.Destination, "DELETE FROM public.orders_ts WHERE id > 90");
        var time = (string)(await OrdersTable.ScalarAsync(Sync.Source, "SELECT to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM public.orders_ts WHERE id = 90"))!;

        var (code, output) = await Sync.CliAsync(null, "watermark", "set", "orders-ts", time);
        Assert.True(code == 0, output);
        var rerun = await Sync.RunAsync("orders-ts");
        Assert.Equal(("Completed", 10L), (rerun.State, rerun.ExtractedRows));
        Assert.Equal(await DigestAsync(Sync.Source, "orders_ts", "true"), await DigestAsync(Sync.Destination, "orders_ts", "true"));
    }

    [Fact]
    public async Task A_backfill_re_loads_exactly_its_range_and_leaves_the_watermark()
    {
        Assert.Equal("Completed", (await Sync.RunAsync("orders-bf")).State);
        var watermark = await OrdersTable.ScalarAsync(Sync.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = 'orders-bf'");
        Assert.NotNull(watermark);
        await OrdersTable.ExecuteAsync(Sync.Destination, "DELETE FROM public.orders_bf WHERE id BETWEEN 11 AND 50 OR id IN (5, 80)");

        var (emptyCode, empty) = await Sync.CliAsync(null, "backfill", "orders-bf", "--from", "40", "--to", "20");
        Assert.True(emptyCode == 2, empty);
        Assert.Contains("\"40\" is not before \"20\"", empty, StringComparison.Ordinal);
        var (cdcCode, cdc) = await Sync.CliAsync(null, "backfill", "orders-cdc", "--from", "1", "--to", "2");
        Assert.True(cdcCode == 2, cdc);
        Assert.Contains("Cannot backfill cdc job \"orders-cdc\"", cdc, StringComparison.Ordinal);

        var (code, output) = await Sync.CliAsync(null, "backfill", "orders-bf", "--from", "20", "--to", "40", "--json");
        Assert.True(code == 0, output);
        var run = await Sync.WaitForRunAsync(JsonDocument.Parse(output).RootElement.GetProperty("runId").GetGuid());
        Assert.Equal(("Completed", "backfill", 20L), (run.State, run.Trigger, run.ExtractedRows));

        var present = (string)(await OrdersTable.ScalarAsync(Sync.Destination, "SELECT string_agg(id::text, ',' ORDER BY id) FROM public.orders_bf WHERE id BETWEEN 1 AND 100"))!;
        var expected = Enumerable.Range(1, 100).Where(id => id is not (5 or 80) && (id is < 11 or > 50 || id is >= 20 and < 40));
        Assert.Equal(string.Join(",", expected), present);
        Assert.Equal(await DigestAsync(Sync.Source, "orders_bf", "id >= 20 AND id < 40"), await DigestAsync(Sync.Destination, "orders_bf", "id >= 20 AND id < 40"));
        Assert.Equal(watermark, await OrdersTable.ScalarAsync(Sync.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = 'orders-bf'"));
    }

    [Fact]
    public async Task A_watermark_set_while_a_run_is_active_is_refused_and_changes_nothing()
    {
        Assert.Equal("Completed", (await Sync.RunAsync("orders-busy")).State);
        var watermark = await OrdersTable.ScalarAsync(Sync.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = 'orders-busy'");
        Assert.NotNull(watermark);
        // A new row whose batch the destination holds back: the next run stays active until the gate opens.
        await OrdersTable.SeedAsync(Sync.Source, "public.orders_busy", 101, 1);
        await using var gate = await Failures.DestinationGate.CloseOnNewestRowAsync(Sync.Source, Sync.Destination, "public.orders_busy");
        var runId = await Sync.StartRunAsync("orders-busy");
        await Sync.WaitUntilAsync(async () => await Sync.GetRunAsync(runId) is { State: "Extracting" or "Loading" }, "the run is under way");

        using var refused = await Sync.Http.PutAsJsonAsync("/api/jobs/orders-busy/watermark", new { value = "10" });
        var body = await refused.Content.ReadAsStringAsync();

        Assert.True(refused.StatusCode == System.Net.HttpStatusCode.Conflict, $"{(int)refused.StatusCode}: {body}");
        Assert.Equal($"Run {runId} of job \"orders-busy\" is still active.", JsonDocument.Parse(body).RootElement.GetProperty("title").GetString());
        Assert.Equal(watermark, await OrdersTable.ScalarAsync(Sync.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = 'orders-busy'"));
        await gate.OpenAsync();
        var run = await Sync.WaitForRunAsync(runId);
        Assert.Equal(("Completed", 1L), (run.State, run.Inserted));
        Assert.Equal("[\"101\"]", await OrdersTable.ScalarAsync(Sync.Control, "SELECT cursor->>'Values' FROM sync_watermarks WHERE key = 'orders-busy'"));
    }

    private static async Task<string?> DigestAsync(string connectionString, string table, string where) =>
        (string?)await OrdersTable.ScalarAsync(connectionString, $"SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM public.{table} t WHERE {where}");
}
