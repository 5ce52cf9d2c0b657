using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Destination tables made and evolved by Sync through the four services (issue 18, item 2): into an
/// empty destination database a cursor job and a cdc job each make their table, equal to the source;
/// a column added in the source reaches the destination at the cursor job's next run and mid-stream in
/// the cdc job, and the change is shown with the run; a job with destination.schema: freeze fails its
/// run naming the column. Before, every run failed: the destination table did not exist.
/// </summary>
public sealed class DestinationTableJobTests : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await CdcDeployment.CreateAsync("desttables");
        await OrdersTable.CreateAsync(_sync.Source, "orders");
        await OrdersTable.SeedAsync(_sync.Source, "orders", first: 1, count: 1_000);
        await OrdersTable.ExecuteAsync(_sync.Source, """
            CREATE TABLE events (id bigint PRIMARY KEY, kind varchar(20) NOT NULL, qty integer, at timestamptz NOT NULL DEFAULT now());
            INSERT INTO events (id, kind, qty) SELECT g, 'seeded', g FROM generate_series(1, 300) g;
            """);
        _sync.WriteJob("orders.yml", OrdersTable.Job("orders", "orders", batchSize: 400));
        _sync.WriteJob("frozen.yml", OrdersTable.Job("frozen", "orders", batchSize: 400).Replace("table: public.orders\n  key", "table: frozen.orders\n  schema: freeze\n  key", StringComparison.Ordinal));
        _sync.WriteCdcJob("events.yml", "events", "events", destination: ", deletes: delete");
        await _sync.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await using (_sync)
        {
            await _sync.ReleaseCdcSlotsAsync();
        }
    }

    [Fact]
    public async Task Tables_made_by_Sync_equal_their_sources_and_follow_a_column_added_in_the_source()
    {
        var first = await _sync.RunAsync("orders");
        var frozenFirst = await _sync.RunAsync("frozen");

        Assert.Equal(("Completed", 1_000L), (first.State, first.Inserted));
        Assert.Equal(("Completed", 1_000L), (frozenFirst.State, frozenFirst.Inserted));
        await AssertEqualAsync("public.orders", "public.orders", Orders);
        await AssertEqualAsync("public.orders", "frozen.orders", Orders);
        Assert.Contains(await SchemaChangesAsync(first.RunId), c => c.StartsWith("created table public.orders", StringComparison.Ordinal));
        Assert.Equal("id", await OrdersTable.ScalarAsync(_sync.Destination, "SELECT string_agg(a.attname, ',') FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) WHERE i.indrelid = 'public.orders'::regclass AND i.indisprimary"));
        await _sync.WaitForEqualAsync("the cdc job's first copy", [DigestComparison.Table("events", "t.id", "(t.id, t.kind, t.qty, t.at)")]);

        await OrdersTable.ExecuteAsync(_sync.Source, """
            ALTER TABLE orders ADD COLUMN channel text;
            UPDATE orders SET channel = 'web', updated_at = clock_timestamp() WHERE id % 10 = 0;
            ALTER TABLE events ADD COLUMN source text, ALTER COLUMN qty TYPE bigint;
            INSERT INTO events (id, kind, qty, source) VALUES (301, 'after', 5000000000, 'mobile');
            UPDATE events SET source = 'web', kind = 'changed' WHERE id <= 10;
            """);
        await OrdersTable.SeedAsync(_sync.Source, "orders", first: 1_001, count: 50);
        var second = await _sync.RunAsync("orders");
        var frozenSecond = await _sync.RunAsync("frozen");

        Assert.Equal(("Completed", 150L), (second.State, second.Processed));
        await AssertEqualAsync("public.orders", "public.orders", Orders[..^1] + ", t.channel)");
        Assert.Contains("added column \"channel\" text", await SchemaChangesAsync(second.RunId));
        Assert.Equal("Failed", frozenSecond.State);
        Assert.Contains("\"channel\"", frozenSecond.FailureReason, StringComparison.Ordinal);
        Assert.Equal(0L, await OrdersTable.ScalarAsync(_sync.Destination, "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'frozen' AND column_name = 'channel'"));
        // Read through to_jsonb: until the Loader adds the column, the destination has none to name.
        await _sync.WaitForEqualAsync("a column added and a type widened mid-stream", [DigestComparison.Table("events", "t.id", "(t.id, t.kind, t.qty, t.at, to_jsonb(t) ->> 'source')")],
            diagnostics: async () => $"\nsource rows: {await OrdersTable.ScalarAsync(_sync.Source, ChangedRows)}\ndestination rows: {await OrdersTable.ScalarAsync(_sync.Destination, ChangedRows)}");
        await AssertEqualAsync("public.events", "public.events", "(t.id, t.kind, t.qty, t.at, t.source)");
        Assert.Equal("bigint", await OrdersTable.ScalarAsync(_sync.Destination, "SELECT format_type(atttypid, NULL) FROM pg_attribute WHERE attrelid = 'public.events'::regclass AND attname = 'qty'"));
    }

    // A table Sync makes has the cursor and key columns first (the order batches carry them in), so rows are compared column by column.
    private const string Orders = "(t.id, t.customer_id, t.status, t.amount, t.note, t.created_at, t.updated_at)";

    // The same rows, and the same columns of the same types (without modifiers: varchar(20) is made as varchar).
    private async Task AssertEqualAsync(string source, string destination, string row)
    {
        Assert.Equal(await OrdersTable.ScalarAsync(_sync.Source, CdcDeployment.Digest(source, "t.id", row)), await OrdersTable.ScalarAsync(_sync.Destination, CdcDeployment.Digest(destination, "t.id", row)));
        var shape = "SELECT string_agg(attname || ' ' || format_type(atttypid, NULL), ', ' ORDER BY attname) FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped";
        Assert.Equal(await OrdersTable.ScalarAsync(_sync.Source, shape, source), await OrdersTable.ScalarAsync(_sync.Destination, shape, destination));
    }

    private const string ChangedRows = "SELECT string_agg(t::text, ' ; ' ORDER BY id) FROM events t WHERE id <= 12 OR id >= 299";

    private async Task<List<string>> SchemaChangesAsync(Guid runId)
    {
        var run = await _sync.Http.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}", Json);
        return run.TryGetProperty("schemaChanges", out var changes) && changes.ValueKind == JsonValueKind.Array
            ? [.. changes.EnumerateArray().Select(c => c.GetString()!)]
            : [];
    }
}
