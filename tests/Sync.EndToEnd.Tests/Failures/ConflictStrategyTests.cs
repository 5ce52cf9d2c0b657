using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// Rows changed on both sides between two runs, under each conflict strategy of the job file:
/// latest-wins keeps the newer cursor, source-wins takes the run's source row, dest-wins never
/// overwrites an existing destination row, merge writes the source's non-null fields over the
/// destination row; new source rows are inserted under all of them. One deployment for the class,
/// a job and table per strategy.
/// </summary>
public sealed class ConflictStrategyTests(ConflictStrategyTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<ConflictStrategyTests.Fixture>
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
        await using var sync = fixture.Sync(Fixture.Job(conflict), output);
        await sync.LoadAsync();
        var source = sync.Deployment.Source;
        var destination = sync.Deployment.Destination;

        // id % 10 = 1: changed on both sides, the destination's change is newer than the source's;
        // id % 10 = 2: changed on both sides, the destination's change is older;
        // id % 10 = 3: changed in the source only; id % 10 = 4: changed in the destination only.
        await OrdersTable.ExecuteAsync(destination, $"""
            UPDATE {sync.Table} SET status = 'destination, newer', note = 'edited in the destination', updated_at = now() + interval '1 hour' WHERE id % 10 = 1;
            UPDATE {sync.Table} SET status = 'destination, older', note = 'edited in the destination', updated_at = updated_at + interval '1 second' WHERE id % 10 = 2;
            UPDATE {sync.Table} SET status = 'destination only', note = 'edited in the destination', updated_at = now() WHERE id % 10 = 4;
            """);
        await OrdersTable.ExecuteAsync(source, $"""
            UPDATE {sync.Table} SET status = 'source', amount = amount + 1, updated_at = clock_timestamp() WHERE id % 10 IN (1, 2, 3)
            """);
        await OrdersTable.SeedAsync(source, sync.Table, first: Rows + 1, count: NewRows);
        await OrdersTable.ExecuteAsync(source, $"UPDATE {sync.Table} SET updated_at = clock_timestamp() WHERE id > {Rows}");
        var sourceRows = await RowsAsync(source, sync.Table);
        var destinationRows = await RowsAsync(destination, sync.Table);

        var run = await sync.Deployment.RunAsync(sync.Job);

        Assert.Equal("Completed", run.State);
        var expected = sourceRows.Keys.ToDictionary(id => id, id => id > Rows ? sourceRows[id] : (id % 10, conflict) switch
        {
            (1, "source-wins") => sourceRows[id],
            (1, _) => destinationRows[id],
            (2 or 3, "dest-wins") => destinationRows[id],
            (2 or 3, _) => sourceRows[id],
            _ => destinationRows[id],
        });
        var actual = await RowsAsync(destination, sync.Table);
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

    [Fact]
    public async Task Merge_writes_the_non_null_source_fields_over_the_destination_row()
    {
        await using var sync = fixture.Sync(Fixture.Job("merge"), output);
        await sync.LoadAsync();
        var source = sync.Deployment.Source;
        var destination = sync.Deployment.Destination;

        // id % 10 = 1: the source clears note and changes status, the destination edited note;
        // id % 10 = 2: the source sets both, the destination edited note;
        // id % 10 = 4: changed in the destination only.
        await OrdersTable.ExecuteAsync(destination, $"UPDATE {sync.Table} SET note = 'destination note' WHERE id % 10 IN (1, 2, 4)");
        await OrdersTable.ExecuteAsync(source, $"""
            UPDATE {sync.Table} SET status = 'source', note = NULL, updated_at = clock_timestamp() WHERE id % 10 = 1;
            UPDATE {sync.Table} SET status = 'source', note = 'source note', updated_at = clock_timestamp() WHERE id % 10 = 2;
            """);
        var untouched = (await RowsAsync(destination, sync.Table)).Where(row => row.Key % 10 is not (1 or 2)).ToDictionary();

        var run = await sync.Deployment.RunAsync(sync.Job);

        Assert.Equal("Completed", run.State);
        Assert.Equal(2 * PerGroup, run.Processed);
        Assert.Equal(2 * PerGroup, run.Updated);
        Assert.Equal(0, run.Inserted + run.Skipped);
        Assert.Equal((long)PerGroup, await OrdersTable.ScalarAsync(
            destination, $"SELECT count(*) FROM {sync.Table} WHERE id % 10 = 1 AND status = 'source' AND note = 'destination note'"));
        Assert.Equal((long)PerGroup, await OrdersTable.ScalarAsync(
            destination, $"SELECT count(*) FROM {sync.Table} WHERE id % 10 = 2 AND status = 'source' AND note = 'source note'"));

        // Every non-null source field arrived: status, amount and cursor equal the source's.
        var merged = $"SELECT md5(string_agg(concat_ws('|', id, status, amount, updated_at), ',' ORDER BY id)) FROM {sync.Table} WHERE id % 10 IN (1, 2)";
        Assert.Equal(await OrdersTable.ScalarAsync(source, merged), await OrdersTable.ScalarAsync(destination, merged));
        var after = await RowsAsync(destination, sync.Table);
        Assert.All(untouched, row => Assert.Equal(row.Value, after[row.Key]));

        var rerun = await sync.Deployment.RunAsync(sync.Job);
        Assert.Equal("Completed", rerun.State);
        Assert.Equal(0, rerun.Processed);
        await sync.AssertWatermarkAtSourceMaxAsync();
        await sync.AssertOneMetricsRowPerFinishedRunAsync(rerun);
    }

    private static async Task<Dictionary<long, string>> RowsAsync(string connectionString, string table)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT id, t::text FROM {table} t", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new Dictionary<long, string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetInt64(0), reader.GetString(1));
        }

        return rows;
    }

    public sealed class Fixture() : OrdersJobsFixture("conflict")
    {
        public static string Job(string conflict) => $"conflict-{conflict}";

        protected override async Task PrepareAsync()
        {
            foreach (var conflict in new[] { "latest-wins", "source-wins", "dest-wins", "merge" })
            {
                await AddJobAsync(Job(conflict), Rows, batchSize: 500, conflict: conflict);
            }
        }
    }
}
