using DuckDB.NET.Data;
using Microsoft.Extensions.Configuration;
using Sync.Connectors.DuckDb;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>The duckdb destination against a real DuckDB file.</summary>
public sealed class DuckDbDestinationTests : IAsyncLifetime
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"sync-duckdb-{Guid.NewGuid():N}");
    private DuckDbConnections _connections = null!;

    private string File => Path.Combine(_folder, "warehouse.duckdb");

    public Task InitializeAsync()
    {
        _connections = new DuckDbConnections(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["DuckDbConnections:warehouse"] = File })
            .Build());
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task Batches_are_upserted_by_key_and_a_redelivered_batch_is_applied_once()
    {
        var destination = new DuckDbDestination(_connections);
        var run = Guid.NewGuid();
        var extraction = Guid.NewGuid();
        var first = SampleBatch.Of(
            ["1", "2026-01-01T00:00:00+00:00", "10.25", "one", "2026-01-01"],
            ["2", "2026-01-01T00:00:00+00:00", "20", "two", null]);
        var second = SampleBatch.Of(
            ["2", "2026-01-02T00:00:00+00:00", "21", "two v2", null],
            ["1", "2025-12-31T00:00:00+00:00", "9", "older", null],
            ["3", "2026-01-02T00:00:00+00:00", null, "three", null]);

        var one = await destination.LoadAsync(new BatchToLoad(Job(), run, extraction, 0, first, 1), CancellationToken.None);
        var two = await destination.LoadAsync(new BatchToLoad(Job(), run, extraction, 1, second, 1), CancellationToken.None);
        var again = await destination.LoadAsync(new BatchToLoad(Job(), run, extraction, 1, second, 1), CancellationToken.None);

        Assert.Equal((2, 2, 0, 0), (one.Rows, one.Inserted, one.Updated, one.Skipped));
        // latest-wins: id 2 is newer (updated), id 1 is older (skipped), id 3 is new.
        Assert.Equal((3, 1, 1, 1, false), (two.Rows, two.Inserted, two.Updated, two.Skipped, two.Replayed));
        Assert.Equal((3, 1, 1, 1, true), (again.Rows, again.Inserted, again.Updated, again.Skipped, again.Replayed));
        Assert.Equal(
            ["1|10.250000000000000000|one|2026-01-01", "2|21.000000000000000000|two v2|", "3||three|"],
            await RowsAsync("SELECT id || '|' || coalesce(total::varchar, '') || '|' || note || '|' || coalesce(day::varchar, '') FROM orders_copy ORDER BY id"));
        Assert.Equal(["2"], await RowsAsync("SELECT count(*)::varchar FROM sync.applied_batches"));
    }

    [Fact]
    public async Task A_key_repeated_in_a_batch_keeps_its_last_row_and_counts_the_others_as_skipped()
    {
        var destination = new DuckDbDestination(_connections);
        // Key 1's last row has the older cursor, key 2's rows share one: within a batch, order decides.
        var batch = SampleBatch.Of(
            ["1", "2026-01-02T00:00:00+00:00", "1", "1 first", null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "2 first", null],
            ["1", "2026-01-01T00:00:00+00:00", "1", "1 last", null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "2 second", null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "2 last", null]);

        var result = await destination.LoadAsync(new BatchToLoad(Job(), Guid.NewGuid(), Guid.NewGuid(), 0, batch, 1), CancellationToken.None);

        Assert.Equal((5, 2, 0, 3), (result.Rows, result.Inserted, result.Updated, result.Skipped));
        Assert.Equal(["1 last", "2 last"], await RowsAsync("SELECT note FROM orders_copy ORDER BY id"));
    }

    [Fact]
    public async Task A_batch_of_an_older_run_after_a_newer_run_loaded_changes_nothing()
    {
        var destination = new DuckDbDestination(_connections);
        await destination.LoadAsync(new BatchToLoad(Job(), Guid.NewGuid(), Guid.NewGuid(), 0, SampleBatch.Of(["1", "2026-01-01T00:00:00+00:00", "1", "new run", null]), 5), CancellationToken.None);

        var late = await destination.LoadAsync(new BatchToLoad(Job(), Guid.NewGuid(), Guid.NewGuid(), 0, SampleBatch.Of(["1", "2027-01-01T00:00:00+00:00", "1", "old run", null]), 4), CancellationToken.None);

        Assert.True(late.Superseded);
        Assert.Equal(["new run"], await RowsAsync("SELECT note FROM orders_copy"));
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

    private static JobSpec Job() => new(
        "orders",
        new SourceSpec(SourceKind.Postgres, "src", "public.orders", "updated_at", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.DuckDb, "warehouse", "orders_copy", ["id"]),
        BatchSize: 1000,
        Schedule: null);
}
