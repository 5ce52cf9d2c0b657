using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// The most common incremental key there is, a sequence-fed integer (payment_id bigserial), under
/// writers whose transactions take ids and commit them seconds later, some rolling back, while the
/// job runs again and again through the four services (issue 13, item 1: about 15% of such
/// late-committing rows were lost before, the watermark passing ids that were not yet visible).
/// </summary>
public sealed class LateCommitCursorTests(ITestOutputHelper output)
{
    private const string Job = "payments";
    private const int Writers = 4;
    private static readonly TimeSpan WritingTime = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_sequence_fed_integer_cursor_under_long_concurrent_transactions_loses_no_row()
    {
        await using var sync = await SyncDeployment.CreateAsync("latecommit");
        await OrdersTable.ExecuteAsync(sync.Source, "CREATE TABLE payments (payment_id bigserial PRIMARY KEY, customer_id integer NOT NULL, amount numeric(10,2) NOT NULL, note text NOT NULL)");
        await OrdersTable.ExecuteAsync(sync.Destination, "CREATE TABLE payments (payment_id bigint PRIMARY KEY, customer_id integer NOT NULL, amount numeric(10,2) NOT NULL, note text NOT NULL)");
        sync.WriteJob("payments.yml", """
            name: payments
            batch_size: 200
            source:
              type: postgres
              connection: source
              table: public.payments
              cursor: payment_id
              primary_key: [payment_id]
            destination:
              type: postgres
              connection: destination
              table: public.payments
              key: [payment_id]
            """);
        await sync.StartAsync();

        using var stop = new CancellationTokenSource(WritingTime);
        var writers = Enumerable.Range(0, Writers).Select(w => WriteAsync(sync.Source, w, stop.Token)).ToList();
        var runs = new List<RunResult>();
        while (!stop.IsCancellationRequested && runs.Count < 50)
        {
            runs.Add(await sync.RunAsync(Job, TimeSpan.FromMinutes(2)));
        }

        var written = (await Task.WhenAll(writers)).Sum();
        var last = await sync.RunAsync(Job, TimeSpan.FromMinutes(2));
        runs.Add(last);
        output.WriteLine($"{written} rows committed by {Writers} writers, {runs.Count} runs: {string.Join(", ", runs.Select(r => $"{r.State} {r.Processed}"))}");

        Assert.All(runs, run => Assert.True(run.State == "Completed", $"Run {run.RunId} ended {run.State}: {run.FailureReason}"));
        Assert.True(written > 100, $"Only {written} rows were written.");
        var source = await OrdersTable.ScalarAsync(sync.Source, "SELECT count(*) || ' ' || md5(string_agg(p::text, '|' ORDER BY payment_id)) FROM payments p");
        var destination = await OrdersTable.ScalarAsync(sync.Destination, "SELECT count(*) || ' ' || md5(string_agg(p::text, '|' ORDER BY payment_id)) FROM payments p");
        Assert.Equal(source, destination);
        Assert.Equal(written, runs.Sum(r => r.Inserted));
    }

    /// <summary>
    /// One writer: transactions of 1–5 inserts; one in three held open 0.3–2.5 s after taking its
    /// ids, one in eight rolled back. Returns the rows it committed.
    /// </summary>
    private static async Task<int> WriteAsync(string connectionString, int writer, CancellationToken stop)
    {
        var random = new Random(writer);
        var committed = 0;
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(CancellationToken.None);
        for (var i = 0; i < 10_000 && !stop.IsCancellationRequested; i++)
        {
            var rows = random.Next(1, 6);
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await using (var insert = new NpgsqlCommand(
                "INSERT INTO payments (customer_id, amount, note) SELECT $1, g + 0.5, 'writer ' || $1 FROM generate_series(1, $2) g", connection, transaction))
            {
                insert.Parameters.Add(new NpgsqlParameter { Value = writer });
                insert.Parameters.Add(new NpgsqlParameter { Value = rows });
                await insert.ExecuteNonQueryAsync(CancellationToken.None);
            }

            if (random.Next(3) == 0)
            {
                await Task.Delay(random.Next(300, 2_500), CancellationToken.None);
            }

            if (random.Next(8) == 0)
            {
                await transaction.RollbackAsync(CancellationToken.None);
                continue;
            }

            await transaction.CommitAsync(CancellationToken.None);
            committed += rows;
        }

        return committed;
    }
}
