using DuckDB.NET.Data;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// A job into a DuckDB file through the four services: the Loader migrates a file whose bookkeeping
/// an earlier Sync made on first use, keeps what it held, and loads each row once.
/// </summary>
public sealed class DuckDbJobTests
{
    [Fact]
    public async Task A_file_with_bookkeeping_from_before_migrations_is_migrated_and_loaded()
    {
        var folder = Directory.CreateTempSubdirectory("sync-duckdb-e2e").FullName;
        var file = Path.Combine(folder, "warehouse.duckdb");
        try
        {
            // What the ensure-on-first-use code made before migrations, with a batch it recorded.
            await ExecuteAsync(
                file,
                "CREATE SCHEMA IF NOT EXISTS sync",
                """
                CREATE TABLE IF NOT EXISTS sync.applied_batches (
                    job VARCHAR NOT NULL, run_id UUID NOT NULL, extraction_id UUID NOT NULL, batch_seq INTEGER NOT NULL,
                    rows INTEGER NOT NULL, inserted INTEGER NOT NULL, updated INTEGER NOT NULL, skipped INTEGER NOT NULL,
                    rejected VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
                    PRIMARY KEY (job, run_id, extraction_id, batch_seq))
                """,
                "CREATE TABLE IF NOT EXISTS sync.job_fences (job VARCHAR PRIMARY KEY, fence BIGINT NOT NULL)",
                $"INSERT INTO sync.applied_batches VALUES ('orders', '{Guid.NewGuid()}', '{Guid.NewGuid()}', 0, 1, 1, 0, 0, '[]', current_timestamp)");

            await using (var sync = await SyncDeployment.CreateAsync("duckdb"))
            {
                await OrdersTable.CreateAsync(sync.Source, "orders");
                await OrdersTable.SeedAsync(sync.Source, "orders", first: 1, count: 1_200);
                sync.WriteJob("orders.yml", """
                    name: orders
                    batch_size: 500
                    source:
                      type: postgres
                      connection: source
                      table: public.orders
                      cursor: updated_at
                      primary_key: [id]
                    destination:
                      type: duckdb
                      connection: warehouse
                      table: main.orders
                      key: [id]
                    """);
                sync.SetEnvironment("DuckDbConnections__warehouse", file);
                await sync.StartAsync();

                var first = await sync.RunAsync("orders");
                await OrdersTable.SeedAsync(sync.Source, "orders", first: 1_201, count: 300);
                var second = await sync.RunAsync("orders");

                Assert.Equal(("Completed", 1_200L, 1_200L), (first.State, first.Processed, first.Inserted));
                Assert.Equal(("Completed", 300L, 300L), (second.State, second.Processed, second.Inserted));
                // DuckDB lets one process open the file: the Loader lets go of it when it stops.
                await sync.Service("Loader").KillAsync();
            }

            Assert.Equal(["1:bookkeeping"], await QueryAsync(file, "SELECT version || ':' || name FROM sync.schema_migrations ORDER BY version"));
            Assert.Equal(["1500|1500"], await QueryAsync(file, "SELECT count(*) || '|' || count(DISTINCT id) FROM main.orders"));
            // The earlier batch kept, and one row per batch of the two runs (3 + 1).
            Assert.Equal(["5"], await QueryAsync(file, "SELECT count(*)::varchar FROM sync.applied_batches"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task ExecuteAsync(string file, params string[] statements)
    {
        await using var connection = new DuckDBConnection($"Data Source={file}");
        await connection.OpenAsync();
        foreach (var sql in statements)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }
    }

    private static async Task<List<string>> QueryAsync(string file, string sql)
    {
        await using var connection = new DuckDBConnection($"Data Source={file}");
        await connection.OpenAsync();
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
