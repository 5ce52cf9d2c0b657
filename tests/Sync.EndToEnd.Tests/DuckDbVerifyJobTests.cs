using System.Net.Http.Json;
using System.Text.Json;
using DuckDB.NET.Data;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// <c>syncctl verify</c> of a job into a DuckDB file through the four services (issue 15): the Loader,
/// which holds the file, compares it with the source; keys that went stale behind the job's back (a
/// source row changed without moving its cursor, a row committed late) are reported, repaired by a
/// repair run into the file, and the job verifies equal again.
/// </summary>
public sealed class DuckDbVerifyJobTests
{
    private const int Rows = 5_000;

    [Fact]
    public async Task A_duckdb_destination_is_verified_and_repaired()
    {
        var folder = Directory.CreateTempSubdirectory("sync-duckdb-verify-e2e").FullName;
        var file = Path.Combine(folder, "warehouse.duckdb");
        try
        {
            await using (var sync = await SyncDeployment.CreateAsync("duckverify"))
            {
                await OrdersTable.CreateAsync(sync.Source, "orders");
                await OrdersTable.SeedAsync(sync.Source, "orders", first: 1, count: Rows);
                sync.WriteJob("orders.yml", """
                    name: orders
                    batch_size: 1000
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
                Assert.Equal("Completed", (await sync.RunAsync("orders")).State);
                var equal = await VerifyAsync(sync);
                Assert.Equal(("Equal", 0, Rows), (equal.GetProperty("outcome").GetString(), equal.GetProperty("exitCode").GetInt32(), equal.GetProperty("destinationRows").GetInt64()));

                // Behind the job's back: a note changed without its cursor, a row committed with an old cursor value.
                await OrdersTable.ExecuteAsync(sync.Source, """
                    UPDATE orders SET note = 'changed quietly' WHERE id = 42;
                    INSERT INTO orders SELECT id + 100000, customer_id, status, amount, note, created_at, updated_at FROM orders WHERE id = 1;
                    """);
                var different = await VerifyAsync(sync);
                Assert.Equal(("Different", 1), (different.GetProperty("outcome").GetString(), different.GetProperty("exitCode").GetInt32()));
                Assert.Equal(["different:42:note", "missing:100001:"], Mismatches(different));

                var (code, output) = await sync.CliAsync(null, "verify", "orders", "--repair");

                Assert.True(code == 0, output + sync.Logs());
                Assert.Contains("repair run", output, StringComparison.Ordinal);
                // DuckDB lets one process open the file: the Loader lets go of it when it stops.
                await sync.Service("Loader").KillAsync();
            }

            Assert.Equal(["changed quietly|1"], await QueryAsync(file, "SELECT max(note) || '|' || count(*) FROM main.orders WHERE id IN (42)"));
            Assert.Equal([$"{Rows + 1}"], await QueryAsync(file, "SELECT count(*)::varchar FROM main.orders"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static async Task<JsonElement> VerifyAsync(SyncDeployment sync)
    {
        using var response = await sync.Http.PostAsync("/api/jobs/orders/verify", content: null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body + sync.Logs());
        return JsonDocument.Parse(body).RootElement.Clone();
    }

    private static List<string> Mismatches(JsonElement verification) =>
        [.. verification.GetProperty("mismatches").EnumerateArray()
            .Select(m => $"{m.GetProperty("kind").GetString()}:{string.Join(',', m.GetProperty("key").EnumerateArray().Select(v => v.GetString()))}:"
                + (m.GetProperty("columns").ValueKind == JsonValueKind.Array ? string.Join(',', m.GetProperty("columns").EnumerateArray().Select(c => c.GetString())) : string.Empty))
            .Order(StringComparer.Ordinal)];

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
