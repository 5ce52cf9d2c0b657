using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// A source writer keeps a transaction open across a whole run; its row is stamped with the
/// transaction's start, before rows other writers commit meanwhile (I1, DESIGN.md "Watermark safety").
/// One deployment for the class, a job and table per test; the tests of a class run one at a time,
/// so no other test's transaction is open in the shared source database.
/// </summary>
public sealed class OpenSourceTransactionTests(OpenSourceTransactionTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<OpenSourceTransactionTests.Fixture>
{
    private const int Rows = 20_000;
    private const int LaterRows = 5_000;
    private const long LateId = 1_000_000;

    [Fact]
    public async Task Row_of_a_transaction_open_across_a_run_arrives_with_the_next_run()
    {
        await using var sync = fixture.Sync(Fixture.SameRoleJob, output);

        var (first, second) = await RunAcrossOpenTransactionAsync(sync);

        AssertLaterRowsWaitedForTheNextRun(first, second);
        await AssertEveryRowArrivedAsync(sync, second);
    }

    /// <summary>
    /// The same for an initial load in key ranges (<c>source.range_size</c>, issue 19): every range is
    /// read in the one snapshot the plan exported, and the run's watermark stays short of the open
    /// transaction however many ranges read rows stamped after its start.
    /// </summary>
    [Fact]
    public async Task Row_of_a_transaction_open_across_a_ranged_initial_load_arrives_with_the_next_run()
    {
        await using var sync = fixture.Sync(Fixture.RangedJob, output);

        var (first, second) = await RunAcrossOpenTransactionAsync(sync);

        var ranges = Convert.ToInt64(await OrdersTable.ScalarAsync(sync.Deployment.Control, "SELECT count(*) FROM sync_run_ranges WHERE run_id = $1", first.RunId));
        Assert.True(ranges >= Rows / Fixture.RangeSize, $"the initial load was read in {ranges} ranges");
        AssertLaterRowsWaitedForTheNextRun(first, second);
        await AssertEveryRowArrivedAsync(sync, second);
    }

    /// <summary>
    /// A writer holds a transaction open (its row stamped with the transaction's start) while others
    /// commit later-stamped rows; a run; the transaction commits; the watermark is checked short of its
    /// row; a second run.
    /// </summary>
    private async Task<(RunResult First, RunResult Second)> RunAcrossOpenTransactionAsync(OrdersSync sync)
    {
        RunResult first;
        await using (var writer = await OpenTransaction.InsertAsync(sync.Deployment.Source, sync.Table, LateId))
        {
            await CommitLaterRowsAsync(sync);
            first = await sync.Deployment.RunAsync(sync.Job);
            Assert.True(first.State == "Completed", $"{first}\n{sync.Deployment.Logs()}");
            await writer.CommitAsync();
            output.WriteLine($"First run: {first.Processed} rows in {first.DurationMs} ms; the transaction committed after it");
        }

        await AssertWatermarkBeforeTheLateRowAsync(sync);
        var second = await sync.Deployment.RunAsync(sync.Job);
        Assert.True(second.State == "Completed", $"{second}\n{sync.Deployment.Logs()}");
        return (first, second);
    }

    // Rows 1..LaterRows were stamped after the open transaction's start, so they waited for the second run with its row.
    private static void AssertLaterRowsWaitedForTheNextRun(RunResult first, RunResult second)
    {
        Assert.Equal(Rows - LaterRows, first.Processed);
        Assert.Equal(LaterRows + 1, second.Processed);
        Assert.Equal(LaterRows + 1, second.Inserted);
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
        await using var sync = fixture.Sync(Fixture.OtherRolesJob, output);
        await using (var writer = await OpenTransaction.InsertAsync(As(sync.Deployment.Source, fixture.WriterRole), sync.Table, LateId))
        {
            await CommitLaterRowsAsync(sync);
            var first = await sync.Deployment.RunAsync(sync.Job);
            await writer.CommitAsync();
            output.WriteLine($"First run: {first.State} {first.FailureReason}, {first.Processed} rows; the transaction committed after it");
            await AssertWatermarkBeforeTheLateRowAsync(sync);
            if (first.State != "Completed")
            {
                await OrdersTable.ExecuteAsync(sync.Deployment.Source, $"""GRANT pg_read_all_stats TO "{fixture.ReaderRole}" """);
            }
        }

        var second = await sync.Deployment.RunAsync(sync.Job);
        Assert.Equal("Completed", second.State);
        await AssertEveryRowArrivedAsync(sync, second);
    }

    // Other writers commit rows stamped after the open transaction's start while it stays open.
    private static Task CommitLaterRowsAsync(OrdersSync sync) =>
        OrdersTable.ExecuteAsync(sync.Deployment.Source, $"""
            UPDATE {sync.Table} SET status = 'updated', updated_at = clock_timestamp() WHERE id <= {LaterRows}
            """);

    // The watermark stopped short of the open transaction, so nothing it wrote was skipped.
    private static async Task AssertWatermarkBeforeTheLateRowAsync(OrdersSync sync)
    {
        var watermark = (DateTime?)await OrdersTable.ScalarAsync(sync.Deployment.Control, "SELECT last_sync FROM sync_watermarks WHERE key = $1", sync.Job);
        var lateRow = (DateTime)(await OrdersTable.ScalarAsync(sync.Deployment.Source, $"SELECT updated_at FROM {sync.Table} WHERE id = {LateId}"))!;
        Assert.True(watermark is null || watermark < lateRow, $"The watermark {watermark:O} passed the open transaction's row {lateRow:O}.");
    }

    private static async Task AssertEveryRowArrivedAsync(OrdersSync sync, RunResult last)
    {
        Assert.Equal(1L, await OrdersTable.ScalarAsync(sync.Deployment.Destination, $"SELECT count(*) FROM {sync.Table} WHERE id = {LateId}"));
        Assert.Equal(await OrdersTable.DigestAsync(sync.Deployment.Source, sync.Table), await OrdersTable.DigestAsync(sync.Deployment.Destination, sync.Table));
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

        public static async Task<OpenTransaction> InsertAsync(string connectionString, string table, long id)
        {
            var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            var transaction = await connection.BeginTransactionAsync();
            await using var insert = new NpgsqlCommand(
                $"""
                INSERT INTO {table} (id, customer_id, status, amount, note, created_at, updated_at)
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

    /// <summary>
    /// The second job reads the source as a role of its own (connection source_reader), which sees
    /// the table and nothing of other roles' activity; the application writes as another role.
    /// </summary>
    public sealed class Fixture() : OrdersJobsFixture("opentx")
    {
        public const string SameRoleJob = "opentx";
        public const string OtherRolesJob = "opentx-roles";
        public const string RangedJob = "opentx-ranges";
        public const int RangeSize = 4_000;

        public string ReaderRole => $"{Deployment.Id}_reader";

        public string WriterRole => $"{Deployment.Id}_writer";

        public override async Task DisposeAsync()
        {
            await base.DisposeAsync();
            await OrdersTable.ExecuteAsync(TestInfrastructure.ConnectionString("postgres"), $"""DROP ROLE IF EXISTS "{ReaderRole}", "{WriterRole}" """);
        }

        protected override async Task PrepareAsync()
        {
            await AddJobAsync(SameRoleJob, Rows, batchSize: 200);
            var ranged = await AddJobAsync(RangedJob, Rows, batchSize: 200);
            Deployment.WriteJob($"{RangedJob}.yml", OrdersTable.Job(RangedJob, ranged, 200).Replace("  primary_key: [id]", $"  primary_key: [id]\n  range_size: {RangeSize}", StringComparison.Ordinal));
            var table = await AddJobAsync(OtherRolesJob, Rows, batchSize: 200, sourceConnection: "source_reader");
            await OrdersTable.ExecuteAsync(Deployment.Source, $"""
                CREATE ROLE "{ReaderRole}" LOGIN PASSWORD 'sync';
                CREATE ROLE "{WriterRole}" LOGIN PASSWORD 'sync';
                GRANT USAGE ON SCHEMA public TO "{ReaderRole}", "{WriterRole}";
                GRANT SELECT ON {table} TO "{ReaderRole}";
                GRANT SELECT, INSERT, UPDATE ON {table} TO "{WriterRole}";
                """);
            Deployment.SetEnvironment("Connections__source_reader", As(Deployment.Source, ReaderRole));
        }
    }
}
