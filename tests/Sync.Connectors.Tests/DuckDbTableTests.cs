using Microsoft.Extensions.Configuration;
using Sync.Batches;
using Sync.Connectors.DuckDb;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>A DuckDB destination table made and evolved under the job's schema contract (destination.schema, issue 18 item 2).</summary>
public sealed class DuckDbTableTests : IAsyncLifetime
{
    // A source that gained a column (day) and widened one (qty integer → bigint).
    private static readonly BatchColumn[] Widened =
    [
        new("id", 20), new("updated_at", PgTypes.TimestampTz), new("qty", 20), new("note", PgTypes.Text), new("day", PgTypes.Date),
    ];

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"sync-duckdb-{Guid.NewGuid():N}");
    private DuckDbConnections _connections = null!;

    public Task InitializeAsync()
    {
        _connections = new DuckDbConnections(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["DuckDbConnections:warehouse"] = Path.Combine(_folder, "warehouse.duckdb") })
            .Build());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task An_absent_table_is_created_with_the_batch_types_and_a_primary_key_on_the_job_key()
    {
        var batch = SampleBatch.Of(Widened, ["1", "2026-01-01T00:00:00+00:00", "5", "one", "2026-02-01"]);

        var result = await Load(SchemaContract.Evolve, batch);

        Assert.StartsWith("created table orders_copy", Assert.Single(result.SchemaChanges!), StringComparison.Ordinal);
        Assert.Equal(["id BIGINT", "updated_at TIMESTAMP WITH TIME ZONE", "qty BIGINT", "note VARCHAR", "day DATE"], await ShapeAsync());
        Assert.Equal(["PRIMARY KEY(id)"], await RowsAsync("SELECT constraint_text FROM duckdb_constraints() WHERE table_name = 'orders_copy' AND constraint_type = 'PRIMARY KEY'"));
    }

    [Fact]
    public async Task Evolve_adds_the_new_column_and_widens_the_narrower_type()
    {
        await ExecuteAsync("CREATE TABLE orders_copy (id BIGINT PRIMARY KEY, updated_at TIMESTAMPTZ, qty INTEGER, note VARCHAR)");
        var batch = SampleBatch.Of(Widened, ["1", "2026-01-01T00:00:00+00:00", "5000000000", "one", "2026-02-01"]);

        var result = await Load(SchemaContract.Evolve, batch);

        Assert.Equal(["added column \"day\" DATE", "widened column \"qty\" INTEGER → BIGINT"], result.SchemaChanges);
        Assert.Equal(["id BIGINT", "updated_at TIMESTAMP WITH TIME ZONE", "qty BIGINT", "note VARCHAR", "day DATE"], await ShapeAsync());
        Assert.Equal(["5000000000|2026-02-01"], await RowsAsync("SELECT qty || '|' || day FROM orders_copy"));
    }

    [Fact]
    public async Task Freeze_fails_the_batch_naming_the_new_column_and_leaves_the_table_as_it_is()
    {
        await ExecuteAsync("CREATE TABLE orders_copy (id BIGINT PRIMARY KEY, updated_at TIMESTAMPTZ, qty BIGINT, note VARCHAR)");
        var batch = SampleBatch.Of(Widened, ["1", "2026-01-01T00:00:00+00:00", "5", "one", "2026-02-01"]);

        var failure = await Assert.ThrowsAsync<DestinationSchemaException>(() => Load(SchemaContract.Freeze, batch));

        Assert.Contains("added column \"day\" DATE", failure.Message, StringComparison.Ordinal);
        Assert.Equal(["id BIGINT", "updated_at TIMESTAMP WITH TIME ZONE", "qty BIGINT", "note VARCHAR"], await ShapeAsync());
        Assert.Equal(["0"], await RowsAsync("SELECT count(*)::varchar FROM orders_copy"));
    }

    [Fact]
    public async Task Discard_value_loads_the_rows_without_the_values_of_the_unknown_column()
    {
        await ExecuteAsync("CREATE TABLE orders_copy (id BIGINT PRIMARY KEY, updated_at TIMESTAMPTZ, qty BIGINT, note VARCHAR)");
        var batch = SampleBatch.Of(Widened, ["1", "2026-01-01T00:00:00+00:00", "5", "one", "2026-02-01"], ["2", null, null, "two", null]);

        var result = await Load(SchemaContract.DiscardValue, batch);

        Assert.Equal((2, 2, 0), (result.Rows, result.Inserted, result.Rejected.Count));
        Assert.Equal(["discarded the values of column \"day\" (destination.schema: discard_value)"], result.SchemaChanges);
        Assert.Equal(["id BIGINT", "updated_at TIMESTAMP WITH TIME ZONE", "qty BIGINT", "note VARCHAR"], await ShapeAsync());
        Assert.Equal(["one", "two"], await RowsAsync("SELECT note FROM orders_copy ORDER BY id"));
    }

    [Fact]
    public async Task Discard_row_sets_aside_the_rows_with_a_value_in_the_unknown_column()
    {
        await ExecuteAsync("CREATE TABLE orders_copy (id BIGINT PRIMARY KEY, updated_at TIMESTAMPTZ, qty BIGINT, note VARCHAR)");
        var batch = SampleBatch.Of(
            Widened,
            ["1", "2026-01-01T00:00:00+00:00", "1", "one", null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "two", "2026-02-01"],
            ["3", "2026-01-01T00:00:00+00:00", "3", "three", null]);

        var result = await Load(SchemaContract.DiscardRow, batch);

        Assert.Equal((2, 2), (result.Rows, result.Inserted));
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(1, rejected.RowIndex);
        Assert.Contains("\"day\"", rejected.Error, StringComparison.Ordinal);
        Assert.Equal(["one", "three"], await RowsAsync("SELECT note FROM orders_copy ORDER BY id"));
    }

    private Task<LoadResult> Load(SchemaContract schema, RecordBatch batch) =>
        new DuckDbDestination(_connections).LoadAsync(new BatchToLoad(Job(schema), Guid.NewGuid(), Guid.NewGuid(), 0, batch, 1), CancellationToken.None);

    private Task<List<string>> ShapeAsync() =>
        RowsAsync("SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_name = 'orders_copy' ORDER BY ordinal_position");

    private async Task ExecuteAsync(string sql)
    {
        using var lease = await _connections.AcquireAsync("warehouse", CancellationToken.None);
        await using var command = lease.Connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<List<string>> RowsAsync(string sql)
    {
        using var lease = await _connections.AcquireAsync("warehouse", CancellationToken.None);
        await using var command = lease.Connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static JobSpec Job(SchemaContract schema) => new(
        "orders",
        new SourceSpec(SourceKind.Postgres, "src", "public.orders", "updated_at", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.DuckDb, "warehouse", "orders_copy", ["id"], Schema: schema),
        BatchSize: 1000,
        Schedule: null);
}
