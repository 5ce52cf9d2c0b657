using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// A source writer keeps a transaction open across a whole run; its row is stamped with the
/// transaction's start, before rows other writers commit meanwhile (I1, DESIGN.md "Watermark safety").
/// </summary>
public sealed class OpenSourceTransactionTests(ITestOutputHelper output)
{
    private const int Rows = 20_000;
    private const int LaterRows = 5_000;
    private const long LateId = 1_000_000;

    [Fact]
    public async Task Row_of_a_transaction_open_across_a_run_arrives_with_the_next_run()
    {
        await using var sync = await OrdersSync.CreateAsync("opentx", Rows, output, batchSize: 200);
        await sync.Deployment.StartAsync();

        await using (var writer = await OpenTransaction.InsertAsync(sync.Deployment.Source, LateId))
        {
            await CommitLaterRowsAsync(sync);
            var first = await sync.Deployment.RunAsync(OrdersSync.Job);
            Assert.Equal("Completed", first.State);
            Assert.Equal(Rows - LaterRows, first.Processed);
            await writer.CommitAsync();
            output.WriteLine($"First run: {first.Processed} rows in {first.DurationMs} ms; the transaction committed after it");
        }

        await AssertWatermarkBeforeTheLateRowAsync(sync);
        var second = await sync.Deployment.RunAsync(OrdersSync.Job);
        Assert.Equal("Completed", second.State);
        Assert.Equal(LaterRows + 1, second.Processed);
        // Rows 1..LaterRows were stamped after the open transaction's start, so they too waited for this run.
        Assert.Equal(LaterRows + 1, second.Inserted);
        await AssertEveryRowArrivedAsync(sync, second);
    }

    /// <summary>
    /// The same with the usual least-privilege roles: Sync reads the source as a role of its own,
    /// the application writes as another. pg_stat_activity hides other roles' xact_start from a
    /// role without pg_read_all_stats, so the run must not take "no transaction visible" for "no
    /// transaction open": it either stays short of the open transaction or refuses to run (then the
    /// operator grants pg_read_all_stats, and the next run brings everything).
    /// </summary>
    [Fact]
    public async Task Row_of_another_roles_transaction_open_across_a_run_is_not_skipped()
    {
        var sync = await OrdersSync.CreateAsync("opentxrole", Rows, output, batchSize: 200);
        var reader = $"{sync.Deployment.Id}_reader";
        var writerRole = $"{sync.Deployment.Id}_writer";
        try
        {
            await OrdersTable.ExecuteAsync(sync.Deployment.Source, $"""
                CREATE ROLE "{reader}" LOGIN PASSWORD 'sync';
                CREATE ROLE "{writerRole}" LOGIN PASSWORD 'sync';
                GRANT USAGE ON SCHEMA public TO "{reader}", "{writerRole}";
                GRANT SELECT ON {OrdersSync.Table} TO "{reader}";
                GRANT SELECT, INSERT, UPDATE ON {OrdersSync.Table} TO "{writerRole}";
                """);
            sync.Deployment.SetEnvironment("Connections__source", As(sync.Deployment.Source, reader));
            await sync.Deployment.StartAsync();

            await using (var writer = await OpenTransaction.InsertAsync(As(sync.Deployment.Source, writerRole), LateId))
            {
                await CommitLaterRowsAsync(sync);
                var first = await sync.Deployment.RunAsync(OrdersSync.Job);
                await writer.CommitAsync();
                output.WriteLine($"First run: {first.State} {first.FailureReason}, {first.Processed} rows; the transaction committed after it");
                await AssertWatermarkBeforeTheLateRowAsync(sync);
                if (first.State != "Completed")
                {
                    await OrdersTable.ExecuteAsync(sync.Deployment.Source, $"""GRANT pg_read_all_stats TO "{reader}" """);
                }
            }

            var second = await sync.Deployment.RunAsync(OrdersSync.Job);
            Assert.Equal("Completed", second.State);
            await AssertEveryRowArrivedAsync(sync, second);
        }
        finally
        {
            await sync.DisposeAsync();
            await OrdersTable.ExecuteAsync(TestInfrastructure.ConnectionString("postgres"), $"""DROP ROLE IF EXISTS "{reader}", "{writerRole}" """);
        }
    }

    // Other writers commit rows stamped after the open transaction's start while it stays open.
    private static Task CommitLaterRowsAsync(OrdersSync sync) =>
        OrdersTable.ExecuteAsync(sync.Deployment.Source, $"""
            UPDATE {OrdersSync.Table} SET status = 'updated', updated_at = clock_timestamp() WHERE id <= {LaterRows}
            """);

    // The watermark stopped short of the open transaction, so nothing it wrote was skipped.
    private static async Task AssertWatermarkBeforeTheLateRowAsync(OrdersSync sync)
    {
        var watermark = (DateTime?)await OrdersTable.ScalarAsync(sync.Deployment.Control, "SELECT last_sync FROM sync_watermarks WHERE key = $1", OrdersSync.Job);
        var lateRow = (DateTime)(await OrdersTable.ScalarAsync(sync.Deployment.Source, $"SELECT updated_at FROM {OrdersSync.Table} WHERE id = {LateId}"))!;
        Assert.True(watermark is null || watermark < lateRow, $"The watermark {watermark:O} passed the open transaction's row {lateRow:O}.");
    }

    private static async Task AssertEveryRowArrivedAsync(OrdersSync sync, RunResult last)
    {
        Assert.Equal(1L, await OrdersTable.ScalarAsync(sync.Deployment.Destination, $"SELECT count(*) FROM {OrdersSync.Table} WHERE id = {LateId}"));
        Assert.Equal(await OrdersTable.DigestAsync(sync.Deployment.Source, OrdersSync.Table), await OrdersTable.DigestAsync(sync.Deployment.Destination, OrdersSync.Table));
        await sync.AssertWatermarkAtSourceMaxAsync();
        await sync.AssertOneMetricsRowPerFinishedRunAsync(last);
    }

    private static string As(string connectionString, string role) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Username = role, Password = "sync" }.ConnectionString;

    /// <summary>A writer's transaction, left open after inserting one row stamped with its start (now()).</summary>
    private sealed class OpenTransaction : IAsyncDisposable
    {
        private readonly NpgsqlConnection _connection;
        private readonly NpgsqlTransaction _transaction;

        private OpenTransaction(NpgsqlConnection connection, NpgsqlTransaction transaction)
        {
            _connection = connection;
            _transaction = transaction;
        }

        public static async Task<OpenTransaction> InsertAsync(string connectionString, long id)
        {
            var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using var insert = new NpgsqlCommand(
                $"""
                INSERT INTO {OrdersSync.Table} (id, customer_id, status, amount, note, created_at, updated_at)
                VALUES ({id}, 1, 'new', 1.00, 'written by a long transaction', now(), now())
                """,
                connection, transaction);
            await insert.ExecuteNonQueryAsync();
            return new OpenTransaction(connection, transaction);
        }

        public Task CommitAsync() => _transaction.CommitAsync();

        public async ValueTask DisposeAsync()
        {
            await _transaction.DisposeAsync();
            await _connection.DisposeAsync();
        }
    }
}
