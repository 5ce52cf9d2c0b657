using Npgsql;
using Sync.EndToEnd.Tests.Failures;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Declarative transforms (docs/job-files.md, "Transforms: computed columns, filter, lookups") through the four
/// services: the destination equals the same transform computed in SQL over the source; batches that
/// the filter or failed casts leave empty still complete their run and move the watermark; a full
/// refresh with records set aside, or whose filter keeps nothing, deletes nothing.
/// </summary>
public sealed class TransformJobTests(TransformJobFixture fixture) : IClassFixture<TransformJobFixture>
{
    // The enrich job's transform, written in SQL over the source.
    private const string EnrichedInSql = """
        SELECT o.id, o.updated_at, upper(o.status), round(o.amount * 1.1)::bigint, o.customer_id::text,
               lower(o.status) || '-' || o.customer_id, u.email, 'shop'
        FROM orders_x o LEFT JOIN users u ON u.id = o.customer_id
        WHERE o.status <> 'draft'
        """;

    private const string Enriched = "SELECT id, updated_at, status, amount_rounded, customer, label, email, origin FROM orders_enriched";

    private SyncDeployment Sync => fixture.Deployment;

    [Fact]
    public async Task Computed_columns_filter_and_lookups_load_what_sql_computes_and_skip_the_filtered_rows()
    {
        // 1,000 orders in 10 batches; every 4th is a draft, the filter drops it. Users 1–200 but every
        // 9th has none, so its lookup gives null. The highest cursor is a draft's, so the watermark has
        // to move past a filtered row.
        await OrdersTable.ExecuteAsync(Sync.Source, """
            INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 200) g WHERE g % 9 <> 0;
            INSERT INTO orders_x
            SELECT g, 1 + g % 200, (ARRAY['new','paid','shipped','draft'])[1 + g % 4], ((g * 7919) % 100000 - 20000) / 100.0,
                   now() - interval '1 day' + g * interval '1 millisecond'
            FROM generate_series(1, 1000) g;
            UPDATE orders_x SET status = 'draft' WHERE id = 1000;
            """);
        var drafts = await LongAsync(Sync.Source, "SELECT count(*) FROM orders_x WHERE status = 'draft'");
        Assert.Equal(251L, drafts);

        var first = await Sync.RunAsync(TransformJobFixture.EnrichJob);

        Assert.True(first.State == "Completed", $"{first.State}: {first.FailureReason}\n{Sync.Logs()}");
        Assert.Equal(await DigestAsync(Sync.Source, EnrichedInSql), await DigestAsync(Sync.Destination, Enriched));
        Assert.Equal(0L, await LongAsync(Sync.Destination, "SELECT count(*) FROM orders_enriched WHERE id = ANY($1)", await DraftIdsAsync()));
        // Filtered records are neither rows of the run nor errors (docs/job-files.md); the extraction still counts them.
        Assert.Equal(((int?)10, 1000L, 1000 - drafts, 1000 - drafts, 0L), (first.ExpectedBatches, first.ExtractedRows, first.Processed, first.Inserted, first.Errors));
        Assert.Equal($"{1000 - drafts}/0", await MetricsAsync(first.RunId));
        Assert.Equal(0L, await DeadLettersAsync(TransformJobFixture.EnrichJob));
        Assert.Equal(await OrdersTable.ScalarAsync(Sync.Source, "SELECT max(updated_at) FROM orders_x"), await LastSyncAsync(TransformJobFixture.EnrichJob));
        // now() is one value per batch, taken while the run was on.
        var (started, finished) = await RunTimesAsync(first.RunId);
        Assert.Equal(0L, await LongAsync(Sync.Destination, "SELECT count(*) FROM orders_enriched WHERE NOT synced_at BETWEEN $1 AND $2", started, finished));
        Assert.InRange(await LongAsync(Sync.Destination, "SELECT count(DISTINCT synced_at) FROM orders_enriched"), 1L, 10L);

        // An incremental run: 40 orders change (some of them drafts), 50 are new.
        await OrdersTable.ExecuteAsync(Sync.Source, """
            UPDATE orders_x SET amount = amount + 1.05, updated_at = clock_timestamp() WHERE id % 25 = 1;
            INSERT INTO orders_x
            SELECT g, 1 + g % 200, (ARRAY['new','paid','shipped','draft'])[1 + g % 4], g / 10.0, clock_timestamp()
            FROM generate_series(1001, 1050) g;
            """);
        var changed = await LongAsync(Sync.Source, "SELECT count(*) FROM orders_x WHERE id % 25 = 1 AND id <= 1000 AND status <> 'draft'");
        var added = await LongAsync(Sync.Source, "SELECT count(*) FROM orders_x WHERE id > 1000 AND status <> 'draft'");

        var second = await Sync.RunAsync(TransformJobFixture.EnrichJob);

        Assert.True(second.State == "Completed", $"{second.State}: {second.FailureReason}\n{Sync.Logs()}");
        Assert.Equal((90L, changed + added, added, changed), (second.ExtractedRows, second.Processed, second.Inserted, second.Updated));
        Assert.Equal(await DigestAsync(Sync.Source, EnrichedInSql), await DigestAsync(Sync.Destination, Enriched));
        Assert.Equal(0L, await LongAsync(Sync.Destination, "SELECT count(*) FROM orders_enriched WHERE id = ANY($1)", await DraftIdsAsync()));
        Assert.Equal(await OrdersTable.ScalarAsync(Sync.Source, "SELECT max(updated_at) FROM orders_x"), await LastSyncAsync(TransformJobFixture.EnrichJob));
    }

    [Fact]
    public async Task Batches_the_filter_empties_or_whose_records_all_fail_are_loaded_empty_and_the_watermark_moves_past_them()
    {
        const string parts = "SELECT id, code::integer, kind, updated_at FROM parts WHERE kind <> 'hidden' AND code ~ '^[0-9]+$'";
        // Batch 1 (ids 1–100) loads; the filter drops all of batch 2 (101–200); every record of
        // batch 3 (201–300), the run's last, fails its cast.
        await OrdersTable.ExecuteAsync(Sync.Source, """
            INSERT INTO parts
            SELECT g, CASE WHEN g > 200 THEN 'x' || g ELSE g::text END, CASE WHEN g BETWEEN 101 AND 200 THEN 'hidden' ELSE 'part' END,
                   now() - interval '1 day' + g * interval '1 millisecond'
            FROM generate_series(1, 300) g;
            """);

        var first = await Sync.RunAsync(TransformJobFixture.PartsJob);

        Assert.True(first.State == "Completed", $"{first.State}: {first.FailureReason}\n{Sync.Logs()}");
        Assert.Equal(((int?)3, 3, 300L, 200L, 100L, 100L), (first.ExpectedBatches, first.LoadedBatches, first.ExtractedRows, first.Processed, first.Inserted, first.Errors));
        Assert.Equal("200/100", await MetricsAsync(first.RunId));
        Assert.Equal(await DigestAsync(Sync.Source, parts), await DigestAsync(Sync.Destination, "SELECT id, code, kind, updated_at FROM parts"));
        Assert.Equal(100L, await OrdersTable.CountAsync(Sync.Destination, "parts"));
        // Each batch of the run's extraction went through the Loader and was recorded, the two empty ones too.
        var extraction = (Guid)(await OrdersTable.ScalarAsync(Sync.Control, "SELECT extraction_id FROM sync_runs WHERE correlation_id = $1", first.RunId))!;
        Assert.Equal(
            "1:100,2:0,3:0",
            await OrdersTable.ScalarAsync(
                Sync.Destination,
                "SELECT string_agg(batch_seq || ':' || rows, ',' ORDER BY batch_seq) FROM sync.applied_batches WHERE run_id = $1 AND extraction_id = $2",
                first.RunId,
                extraction));
        Assert.Equal(await OrdersTable.ScalarAsync(Sync.Source, "SELECT updated_at FROM parts WHERE id = 300"), await LastSyncAsync(TransformJobFixture.PartsJob));
        var letters = await PoisonItems.DeadLettersAsync(Sync, $"job={TransformJobFixture.PartsJob}&limit=1000");
        Assert.Equal(Enumerable.Range(201, 100).Select(i => (long)i), letters.Select(l => l.RecordId).Order());
        Assert.All(letters, l => Assert.Equal(("record", "transform", 3, "pending", first.RunId), (l.Kind, l.Stage, l.BatchSeq, l.Status, l.RunId)));
        Assert.All(letters, l => Assert.StartsWith("column code:", l.Error, StringComparison.Ordinal));

        // The next run: batch 1 (301–400) is half hidden, batch 2 (401–450), its last, all hidden.
        await OrdersTable.ExecuteAsync(Sync.Source, """
            INSERT INTO parts
            SELECT g, g::text, CASE WHEN g > 350 THEN 'hidden' ELSE 'part' END, clock_timestamp()
            FROM generate_series(301, 450) g;
            """);

        var second = await Sync.RunAsync(TransformJobFixture.PartsJob);

        Assert.True(second.State == "Completed", $"{second.State}: {second.FailureReason}\n{Sync.Logs()}");
        Assert.Equal(((int?)2, 150L, 50L, 50L, 0L), (second.ExpectedBatches, second.ExtractedRows, second.Processed, second.Inserted, second.Errors));
        Assert.Equal(await DigestAsync(Sync.Source, parts), await DigestAsync(Sync.Destination, "SELECT id, code, kind, updated_at FROM parts"));
        Assert.Equal(150L, await OrdersTable.CountAsync(Sync.Destination, "parts"));
        Assert.Equal(await OrdersTable.ScalarAsync(Sync.Source, "SELECT updated_at FROM parts WHERE id = 450"), await LastSyncAsync(TransformJobFixture.PartsJob));
        Assert.Equal(100L, await DeadLettersAsync(TransformJobFixture.PartsJob));
    }

    [Fact]
    public async Task A_full_refresh_with_records_set_aside_or_a_filter_that_keeps_nothing_deletes_nothing()
    {
        const string stock = "SELECT id, qty::integer, updated_at FROM stock WHERE qty <> 'withdrawn'";
        const string destination = "SELECT id, qty, updated_at FROM stock";
        await OrdersTable.ExecuteAsync(Sync.Source, """
            INSERT INTO stock SELECT g, (g % 50)::text, now() - interval '1 day' + g * interval '1 millisecond' FROM generate_series(1, 300) g;
            """);
        var first = await Sync.RunAsync(TransformJobFixture.StockJob);
        Assert.True(first.State == "Completed", $"{first.State}: {first.FailureReason}\n{Sync.Logs()}");
        Assert.Equal(await DigestAsync(Sync.Source, stock), await DigestAsync(Sync.Destination, destination));
        var watermark = await CursorAsync(TransformJobFixture.StockJob);

        // 30 rows go from the source, 30 change, and 3 no longer cast: those never reach the
        // destination's keys table, so a sweep would delete their rows although the source has them.
        await OrdersTable.ExecuteAsync(Sync.Source, """
            DELETE FROM stock WHERE id % 10 = 0;
            UPDATE stock SET qty = (id % 50 + 7)::text, updated_at = clock_timestamp() WHERE id % 10 = 1;
            UPDATE stock SET qty = 'x' || id, updated_at = clock_timestamp() WHERE id IN (5, 155, 255);
            """);

        var setAside = await Sync.RunAsync(TransformJobFixture.StockJob);

        Assert.Equal("Failed", setAside.State);
        Assert.Contains("set aside before the load", setAside.FailureReason, StringComparison.Ordinal);
        Assert.Equal(0L, await DeletedAsync(setAside.RunId));
        Assert.Equal(300L, await OrdersTable.CountAsync(Sync.Destination, "stock"));
        Assert.Equal(30L, await LongAsync(Sync.Destination, "SELECT count(*) FROM stock WHERE id % 10 = 0"));
        // The upserts before the sweep are in (old rows stay visible until the end, new values arrive),
        // and the records set aside keep their old row.
        Assert.Equal(30L, await LongAsync(Sync.Destination, "SELECT count(*) FROM stock WHERE id % 10 = 1 AND qty = id % 50 + 7"));
        Assert.Equal("5,5,5", await OrdersTable.ScalarAsync(Sync.Destination, "SELECT string_agg(qty::text, ',' ORDER BY id) FROM stock WHERE id IN (5, 155, 255)"));
        var letters = (await PoisonItems.DeadLettersAsync(Sync, $"job={TransformJobFixture.StockJob}")).Where(l => l.RunId == setAside.RunId).ToList();
        Assert.Equal(new long[] { 5, 155, 255 }, letters.Select(l => l.RecordId).Order());
        Assert.All(letters, l => Assert.Equal("transform", l.Stage));
        Assert.Equal(watermark, await CursorAsync(TransformJobFixture.StockJob));

        // Fixed, and one row withdrawn by the filter: the sweep deletes the 30 and the withdrawn one.
        await OrdersTable.ExecuteAsync(Sync.Source, """
            UPDATE stock SET qty = (id % 50)::text, updated_at = clock_timestamp() WHERE id IN (5, 155, 255);
            UPDATE stock SET qty = 'withdrawn', updated_at = clock_timestamp() WHERE id = 7;
            """);

        var repaired = await Sync.RunAsync(TransformJobFixture.StockJob);

        Assert.True(repaired.State == "Completed", $"{repaired.State}: {repaired.FailureReason}\n{Sync.Logs()}");
        Assert.Equal(31L, await DeletedAsync(repaired.RunId));
        Assert.Equal(269L, await OrdersTable.CountAsync(Sync.Destination, "stock"));
        Assert.Equal(await DigestAsync(Sync.Source, stock), await DigestAsync(Sync.Destination, destination));

        // Every row withdrawn: the filter keeps none, and the run refuses to empty the destination.
        await OrdersTable.ExecuteAsync(Sync.Source, "UPDATE stock SET qty = 'withdrawn', updated_at = clock_timestamp()");

        var keptNone = await Sync.RunAsync(TransformJobFixture.StockJob);

        Assert.Equal("Failed", keptNone.State);
        Assert.Contains("kept none", keptNone.FailureReason, StringComparison.Ordinal);
        Assert.Equal((270L, 0L), (keptNone.ExtractedRows, keptNone.Processed));
        Assert.Equal(0L, await DeletedAsync(keptNone.RunId));
        Assert.Equal(269L, await OrdersTable.CountAsync(Sync.Destination, "stock"));
    }

    private async Task<long[]> DraftIdsAsync()
    {
        await using var connection = new NpgsqlConnection(Sync.Source);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT coalesce(array_agg(id), '{}') FROM orders_x WHERE status = 'draft'", connection);
        return (long[])(await command.ExecuteScalarAsync())!;
    }

    private async Task<(DateTime Started, DateTime Finished)> RunTimesAsync(Guid runId)
    {
        await using var connection = new NpgsqlConnection(Sync.Control);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT started_at, finished_at FROM sync_metrics WHERE run_id = $1", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = runId });
        await using var reader = await command.ExecuteReaderAsync();
        Assert.True(await reader.ReadAsync());
        return (reader.GetDateTime(0), reader.GetDateTime(1));
    }

    private Task<object?> MetricsAsync(Guid runId) =>
        OrdersTable.ScalarAsync(Sync.Control, "SELECT concat_ws('/', processed, errors) FROM sync_metrics WHERE run_id = $1", runId);

    private Task<long> DeletedAsync(Guid runId) => LongAsync(Sync.Control, "SELECT deleted FROM sync_runs WHERE correlation_id = $1", runId);

    private Task<long> DeadLettersAsync(string job) => LongAsync(Sync.Control, "SELECT count(*) FROM dead_letters WHERE job_name = $1", job);

    private Task<object?> LastSyncAsync(string job) => OrdersTable.ScalarAsync(Sync.Control, "SELECT last_sync FROM sync_watermarks WHERE key = $1", job);

    private Task<object?> CursorAsync(string job) => OrdersTable.ScalarAsync(Sync.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = $1", job);

    private static async Task<long> LongAsync(string connectionString, string sql, params object[] parameters) =>
        Convert.ToInt64(await OrdersTable.ScalarAsync(connectionString, sql, parameters));

    // Row count and a digest of every row's text, whatever the column names: equal digests, equal rows.
    private static async Task<string> DigestAsync(string connectionString, string query) =>
        (string)(await OrdersTable.ScalarAsync(
            connectionString, $"SELECT count(*) || ' ' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), 'empty') FROM ({query}) r"))!;
}
