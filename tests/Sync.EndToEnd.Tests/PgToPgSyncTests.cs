using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>The walking skeleton: PostgreSQL → Coordinator → Extractor → Transformer → Loader → PostgreSQL.</summary>
public sealed class PgToPgSyncTests(PgToPgFixture fixture) : IClassFixture<PgToPgFixture>
{
    private SyncDeployment Sync => fixture.Deployment;

    [Fact]
    public async Task Initial_load_copies_every_row_and_a_rerun_moves_none()
    {
        const string table = "orders_initial";
        await OrdersTable.SeedAsync(Sync.Source, table, first: 1, count: 5_500);

        var first = await Sync.RunAsync("orders-initial");

        Assert.Equal("Completed", first.State);
        Assert.Equal(5_500, first.Processed);
        Assert.Equal(5_500, first.Inserted);
        Assert.Equal(6, first.ExpectedBatches);
        Assert.Equal(5_500, await OrdersTable.CountAsync(Sync.Destination, table));
        Assert.Equal(await OrdersTable.DigestAsync(Sync.Source, table), await OrdersTable.DigestAsync(Sync.Destination, table));
        var watermark = await WatermarkAsync("orders-initial");
        Assert.Equal(await MaxCursorAsync(table), watermark.Cursor);

        var destinationBefore = await OrdersTable.DigestAsync(Sync.Destination, table);
        var second = await Sync.RunAsync("orders-initial");

        Assert.Equal("Completed", second.State);
        Assert.Equal(0, second.Processed);
        Assert.Equal(0, second.ExpectedBatches);
        Assert.Equal(watermark, await WatermarkAsync("orders-initial"));
        Assert.Equal(destinationBefore, await OrdersTable.DigestAsync(Sync.Destination, table));
        Assert.Equal(2L, await OrdersTable.ScalarAsync(Sync.Control, "SELECT count(*) FROM sync_metrics WHERE job_name = 'orders-initial'"));
    }

    [Fact]
    public async Task Next_run_moves_exactly_the_updated_and_inserted_rows()
    {
        const string table = "orders_incremental";
        await OrdersTable.SeedAsync(Sync.Source, table, first: 1, count: 4_000);
        Assert.Equal("Completed", (await Sync.RunAsync("orders-incremental")).State);

        await OrdersTable.UpdateAsync(Sync.Source, table, count: 40, total: 4_000);
        await OrdersTable.SeedAsync(Sync.Source, table, first: 4_001, count: 25);
        var run = await Sync.RunAsync("orders-incremental");

        Assert.Equal("Completed", run.State);
        Assert.Equal(65, run.Processed);
        Assert.Equal(25, run.Inserted);
        Assert.Equal(40, run.Updated);
        Assert.Equal(0, run.Skipped);
        Assert.Equal(await OrdersTable.DigestAsync(Sync.Source, table), await OrdersTable.DigestAsync(Sync.Destination, table));
        Assert.Equal(
            40L,
            await OrdersTable.ScalarAsync(Sync.Destination, $"SELECT count(*) FROM {table} WHERE status = 'updated'"));
    }

    [Fact]
    public async Task Rows_sharing_one_updated_at_across_batch_edges_all_arrive()
    {
        const string table = "orders_ties";
        await OrdersTable.SeedAsync(Sync.Source, table, first: 1, count: 2_500, sameTimestamp: true);

        var run = await Sync.RunAsync("orders-ties");

        Assert.Equal("Completed", run.State);
        Assert.Equal(3, run.ExpectedBatches);
        Assert.Equal(2_500, run.Inserted);
        Assert.Equal(await OrdersTable.DigestAsync(Sync.Source, table), await OrdersTable.DigestAsync(Sync.Destination, table));

        // Rows written later in one transaction share a new timestamp; they come on the next run, all of them.
        await OrdersTable.SeedAsync(Sync.Source, table, first: 2_501, count: 1_500, sameTimestamp: true);
        var next = await Sync.RunAsync("orders-ties");
        Assert.Equal(1_500, next.Inserted);
        Assert.Equal(4_000, await OrdersTable.CountAsync(Sync.Destination, table));
    }

    [Fact]
    public async Task Mapped_columns_are_selected_and_renamed()
    {
        await OrdersTable.SeedAsync(Sync.Source, "orders_mapped", first: 1, count: 1_200);

        var run = await Sync.RunAsync("orders-mapped");

        Assert.Equal("Completed", run.State);
        Assert.Equal(1_200, run.Inserted);
        Assert.Equal(
            await OrdersTable.ScalarAsync(Sync.Source, "SELECT md5(string_agg(concat_ws(',', id, status, amount, updated_at), '|' ORDER BY id)) FROM orders_mapped"),
            await OrdersTable.ScalarAsync(Sync.Destination, "SELECT md5(string_agg(concat_ws(',', order_id, state, total, changed_at), '|' ORDER BY order_id)) FROM order_totals"));
    }

    [Fact]
    public async Task Versions_of_a_key_in_one_batch_load_its_last_into_a_partitioned_table()
    {
        // Each order in two versions a microsecond apart, next to each other in (updated_at, id)
        // order: a batch of 200 holds both versions of 100 orders.
        await OrdersTable.ExecuteAsync(Sync.Source, """
            INSERT INTO order_versions
            SELECT g, 'v' || v, g + v, now() - interval '1 day' + g * interval '10 microseconds' + v * interval '1 microsecond'
            FROM generate_series(1, 300) g, generate_series(1, 2) v
            """);

        var first = await Sync.RunAsync("latest-orders");

        Assert.True(first.State == "Completed", $"{first.State}: {first.FailureReason}");
        Assert.Equal((3, 600L, 300L, 0L, 300L), (first.ExpectedBatches, first.Processed, first.Inserted, first.Updated, first.Skipped));
        Assert.Equal(await LatestVersionsAsync(), await LatestOrdersAsync());

        // Three new versions of orders 1–50 and 50 new orders: one batch, whose last version of each order wins.
        await OrdersTable.ExecuteAsync(Sync.Source, """
            INSERT INTO order_versions
            SELECT g, 'v' || v, g + v, now() - interval '1 hour' + g * interval '10 microseconds' + v * interval '1 microsecond'
            FROM generate_series(1, 50) g, generate_series(3, 5) v
            UNION ALL
            SELECT g, 'v1', g, now() - interval '1 hour' + g * interval '10 microseconds' FROM generate_series(301, 350) g
            """);
        var second = await Sync.RunAsync("latest-orders");

        Assert.True(second.State == "Completed", $"{second.State}: {second.FailureReason}");
        Assert.Equal((1, 200L, 50L, 50L, 100L), (second.ExpectedBatches, second.Processed, second.Inserted, second.Updated, second.Skipped));
        Assert.Equal(await LatestVersionsAsync(), await LatestOrdersAsync());
        Assert.Equal(50L, await OrdersTable.ScalarAsync(Sync.Destination, "SELECT count(*) FROM latest_orders WHERE status = 'v5'"));
    }

    [Fact]
    public async Task Validation_call_names_the_file_the_line_and_the_field()
    {
        var yaml = OrdersTable.Job("orders-bad", "orders_initial").Replace("cursor: updated_at", "cursor: updated at");

        using var response = await Sync.Http.PostAsync("/api/jobs/validate?file=orders-bad.yml", new StringContent(yaml));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(422, (int)response.StatusCode);
        Assert.Contains("\"file\":\"orders-bad.yml\"", body, StringComparison.Ordinal);
        Assert.Contains("\"field\":\"source.cursor\"", body, StringComparison.Ordinal);
        Assert.Contains("\"line\":7", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validation_call_checks_the_live_schemas()
    {
        var yaml = OrdersTable.Job("orders-live", "orders_initial").Replace("cursor: updated_at", "cursor: modified_at");

        using var response = await Sync.Http.PostAsync("/api/jobs/validate?file=orders-live.yml", new StringContent(yaml));
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(422, (int)response.StatusCode);
        Assert.Contains("modified_at", body, StringComparison.Ordinal);
        Assert.Contains("\"field\":\"source\"", body, StringComparison.Ordinal);
    }

    private async Task<object?> LatestVersionsAsync() =>
        await OrdersTable.ScalarAsync(
            Sync.Source,
            "SELECT md5(string_agg(concat_ws(',', id, status, amount, updated_at), '|' ORDER BY id)) FROM (SELECT DISTINCT ON (id) * FROM order_versions ORDER BY id, updated_at DESC) v");

    private async Task<object?> LatestOrdersAsync() =>
        await OrdersTable.ScalarAsync(Sync.Destination, "SELECT md5(string_agg(concat_ws(',', id, status, amount, updated_at), '|' ORDER BY id)) FROM latest_orders");

    private async Task<Watermark> WatermarkAsync(string job)
    {
        var cursor = await OrdersTable.ScalarAsync(Sync.Control, "SELECT cursor->'Values'->>0 FROM sync_watermarks WHERE key = $1", job);
        var updatedAt = await OrdersTable.ScalarAsync(Sync.Control, "SELECT updated_at FROM sync_watermarks WHERE key = $1", job);
        return new Watermark((string?)cursor, (DateTime?)updatedAt);
    }

    private async Task<string?> MaxCursorAsync(string table) =>
        (string?)await OrdersTable.ScalarAsync(
            Sync.Source, $"SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '+00:00' FROM {table}");

    private sealed record Watermark(string? Cursor, DateTime? UpdatedAt);
}
