using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// Rows changed on both sides between two runs, under each conflict strategy of the job file:
/// latest-wins keeps the newer cursor, source-wins takes the run's source row, dest-wins never
/// overwrites an existing destination row; new source rows are inserted under all three.
/// </summary>
public sealed class ConflictStrategyTests(ITestOutputHelper output)
{
    private const int Rows = 20_000;
    private const int NewRows = 1_000;
    private const int PerGroup = Rows / 10;

    [Theory]
    [InlineData("latest-wins")]
    [InlineData("source-wins")]
    [InlineData("dest-wins")]
    public async Task Rows_changed_on_both_sides_end_as_the_strategy_says(string conflict)
    {
        await using var sync = await OrdersSync.CreateAsync("conflict", Rows, output, batchSize: 500, conflict: conflict);
        await sync.StartAndLoadAsync();
        var source = sync.Deployment.Source;
        var destination = sync.Deployment.Destination;

        // id % 10 = 1: changed on both sides, the destination's change is newer than the source's;
        // id % 10 = 2: changed on both sides, the destination's change is older;
        // id % 10 = 3: changed in the source only; id % 10 = 4: changed in the destination only.
        await OrdersTable.ExecuteAsync(destination, $"""
            UPDATE {OrdersSync.Table} SET status = 'destination, newer', note = 'edited in the destination', updated_at = now() + interval '1 hour' WHERE id % 10 = 1;
            UPDATE {OrdersSync.Table} SET status = 'destination, older', note = 'edited in the destination', updated_at = updated_at + interval '1 second' WHERE id % 10 = 2;
            UPDATE {OrdersSync.Table} SET status = 'destination only', note = 'edited in the destination', updated_at = now() WHERE id % 10 = 4;
            """);
        await OrdersTable.ExecuteAsync(source, $"""
            UPDATE {OrdersSync.Table} SET status = 'source', amount = amount + 1, updated_at = clock_timestamp() WHERE id % 10 IN (1, 2, 3)
            """);
        await OrdersTable.SeedAsync(source, OrdersSync.Table, first: Rows + 1, count: NewRows);
        await OrdersTable.ExecuteAsync(source, $"UPDATE {OrdersSync.Table} SET updated_at = clock_timestamp() WHERE id > {Rows}");
        var sourceRows = await RowsAsync(source);
        var destinationRows = await RowsAsync(destination);

        var run = await sync.Deployment.RunAsync(OrdersSync.Job);

        Assert.Equal("Completed", run.State);
        var expected = sourceRows.Keys.ToDictionary(id => id, id => id > Rows ? sourceRows[id] : (id % 10, conflict) switch
        {
            (1, "source-wins") => sourceRows[id],
            (1, _) => destinationRows[id],
            (2 or 3, "dest-wins") => destinationRows[id],
            (2 or 3, _) => sourceRows[id],
            _ => destinationRows[id],
        });
        var actual = await RowsAsync(destination);
        Assert.Equal(expected.Count, actual.Count);
        var wrong = expected.Where(row => actual.GetValueOrDefault(row.Key) != row.Value).Select(row => row.Key).ToList();
        Assert.True(wrong.Count == 0, $"{wrong.Count} rows differ from what {conflict} must produce, e.g. id {string.Join(", ", wrong.Take(5))}: " +
            string.Join(" | ", wrong.Take(2).Select(id => $"expected {expected[id]}, found {actual.GetValueOrDefault(id)}")));

        var (updated, skipped) = conflict switch
        {
            "latest-wins" => (2 * PerGroup, PerGroup),
            "source-wins" => (3 * PerGroup, 0),
            _ => (0, 3 * PerGroup),
        };
        Assert.Equal(3 * PerGroup + NewRows, run.Processed);
        Assert.Equal(NewRows, run.Inserted);
        Assert.Equal(updated, run.Updated);
        Assert.Equal(skipped, run.Skipped);
        await sync.AssertWatermarkAtSourceMaxAsync();
        await sync.AssertOneMetricsRowPerFinishedRunAsync(run);
    }

    private static async Task<Dictionary<long, string>> RowsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT id, t::text FROM {OrdersSync.Table} t", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<long, string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetInt64(0), reader.GetString(1));
        }

        return rows;
    }
}
