using DuckDB.NET.Data;
using Microsoft.Extensions.Configuration;
using Sync.Connectors.DuckDb;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// A DuckDB destination's bookkeeping made by versioned migrations (issue 17, item 3), against real
/// DuckDB files: a fresh file, one whose tables the ensure-on-first-use code of earlier versions made
/// (with rows), and one a newer Sync migrated.
/// </summary>
public sealed class DuckDbMigrationTests : IAsyncLifetime
{
    // What the ensure-on-first-use code ran on a DuckDB file before migrations, verbatim
    // (DuckDbBookkeeping.EnsureAsync).
    private static readonly string[] EnsureCodeSql =
    [
        "CREATE SCHEMA IF NOT EXISTS sync",
        """
        CREATE TABLE IF NOT EXISTS sync.applied_batches (
            job VARCHAR NOT NULL, run_id UUID NOT NULL, extraction_id UUID NOT NULL, batch_seq INTEGER NOT NULL,
            rows INTEGER NOT NULL, inserted INTEGER NOT NULL, updated INTEGER NOT NULL, skipped INTEGER NOT NULL,
            rejected VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
            PRIMARY KEY (job, run_id, extraction_id, batch_seq))
        """,
        "CREATE TABLE IF NOT EXISTS sync.job_fences (job VARCHAR PRIMARY KEY, fence BIGINT NOT NULL)",
    ];

    private static readonly Guid OldRun = Guid.Parse("6f9f1c1e-0000-4000-8000-000000000002");

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"sync-duckdb-migr-{Guid.NewGuid():N}");

    private string File => Path.Combine(_folder, "warehouse.duckdb");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task A_fresh_file_gets_every_migration_once()
    {
        await LoadAsync(Guid.NewGuid());
        await LoadAsync(Guid.NewGuid());

        Assert.Equal(DuckDbMigrator.Migrations.Select(m => $"{m.Version}:{m.Name}"), await QueryAsync("SELECT version || ':' || name FROM sync.schema_migrations ORDER BY version"));
        Assert.Equal(["1:bookkeeping"], await QueryAsync("SELECT version || ':' || name FROM sync.schema_migrations ORDER BY version"));
        Assert.Equal(["2"], await QueryAsync("SELECT count(*)::varchar FROM sync.applied_batches"));
    }

    [Fact]
    public async Task A_file_the_ensure_code_made_is_adopted_with_its_rows()
    {
        await using (var connection = await OpenAsync())
        {
            foreach (var sql in EnsureCodeSql)
            {
                await ExecuteAsync(connection, sql);
            }

            await ExecuteAsync(connection, $"INSERT INTO sync.applied_batches (job, run_id, extraction_id, batch_seq, rows, inserted, updated, skipped, rejected) VALUES ('orders', '{OldRun}', '{OldRun}', 0, 1, 1, 0, 0, '[]')");
            await ExecuteAsync(connection, "INSERT INTO sync.job_fences VALUES ('orders', 1)");
        }

        var replay = await LoadAsync(OldRun);

        Assert.Equal((true, 1, 1), (replay.Replayed, replay.Rows, replay.Inserted));
        Assert.Equal(["1:bookkeeping"], await QueryAsync("SELECT version || ':' || name FROM sync.schema_migrations ORDER BY version"));
        Assert.Equal(["1|1"], await QueryAsync("SELECT (SELECT count(*) FROM sync.applied_batches) || '|' || (SELECT count(*) FROM sync.job_fences)"));
    }

    [Fact]
    public async Task A_file_a_newer_Sync_migrated_is_refused_naming_both_versions()
    {
        await LoadAsync(Guid.NewGuid());
        await using (var connection = await OpenAsync())
        {
            await ExecuteAsync(connection, "INSERT INTO sync.schema_migrations (version, name) VALUES (2, 'from_a_newer_sync')");
        }

        var refused = await Assert.ThrowsAsync<DestinationSchemaException>(() => LoadAsync(Guid.NewGuid()));

        Assert.Contains("version 2", refused.Message, StringComparison.Ordinal);
        Assert.Contains("version 1 (bookkeeping)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(["1"], await QueryAsync("SELECT count(*)::varchar FROM sync.applied_batches"));
    }

    // A Loader process's first use of the file: a connection catalog of its own, closed afterwards.
    private async Task<LoadResult> LoadAsync(Guid run)
    {
        await using var connections = new DuckDbConnections(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["DuckDbConnections:warehouse"] = File })
            .Build());
        var job = new JobSpec(
            "orders",
            new SourceSpec(SourceKind.Postgres, "src", "public.orders", "updated_at", ["id"]),
            new TransformSpec([]),
            new DestinationSpec(DestinationKind.DuckDb, "warehouse", "orders_copy", ["id"]),
            BatchSize: 1000,
            Schedule: null);
        var batch = SampleBatch.Of(["1", "2026-01-01T00:00:00+00:00", "1", "one", null]);
        return await new DuckDbDestination(connections).LoadAsync(new BatchToLoad(job, run, run, 0, batch, 1), CancellationToken.None);
    }

    private async Task<DuckDBConnection> OpenAsync()
    {
        var connection = new DuckDBConnection($"Data Source={File}");
        await connection.OpenAsync();
        return connection;
    }

    private static async Task ExecuteAsync(DuckDBConnection connection, string sql)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    private async Task<List<string>> QueryAsync(string sql)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }
}
