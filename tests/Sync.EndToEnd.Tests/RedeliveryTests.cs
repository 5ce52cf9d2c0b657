using System.Net.Http.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// A destination that fails for a while, and one that always refuses a batch (not a record: a permission error).
/// Every service on its own broker user (deploy/rabbitmq/permissions.tsv): delayed redelivery, the
/// error queue and its replay work with no more than those permissions.
/// </summary>
public sealed class RedeliveryTests : IAsyncLifetime
{
    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncDeployment.CreateAsync("redeliver");
        _sync.UseBrokerUsers = true;
        foreach (var table in new[] { "orders_flaky", "orders_poisoned" })
        {
            await OrdersTable.CreateAsync(_sync.Source, table);
            await OrdersTable.CreateAsync(_sync.Destination, table);
            _sync.WriteJob($"{table}.yml", OrdersTable.Job(table.Replace('_', '-'), table));
        }

        // Failed attempts roll back, so the trigger below stamps them on sequences: setval and
        // nextval are not transactional (CREATE SEQUENCE is, hence the 40 made up front).
        await OrdersTable.ExecuteAsync(_sync.Destination, """
            CREATE SEQUENCE attempt_count;
            DO $$ BEGIN FOR i IN 1..40 LOOP EXECUTE format('CREATE SEQUENCE attempt_at_%s', i); END LOOP; END $$;
            CREATE FUNCTION flaky() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE n bigint;
            BEGIN
                n := nextval('attempt_count');
                IF n <= 9 THEN
                    PERFORM setval(format('attempt_at_%s', n), (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
                    RAISE EXCEPTION 'destination is busy' USING ERRCODE = 'serialization_failure';
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER flaky BEFORE INSERT ON orders_flaky FOR EACH STATEMENT EXECUTE FUNCTION flaky();
            CREATE FUNCTION refuses_some() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'refuses_some: no rights on ids 1201-1300' USING ERRCODE = 'insufficient_privilege';
            END $$;
            CREATE TRIGGER refuses_some BEFORE INSERT ON orders_poisoned FOR EACH ROW WHEN (NEW.id BETWEEN 1201 AND 1300) EXECUTE FUNCTION refuses_some();
            """);
        _sync.SetEnvironment("Redelivery__Intervals", "00:00:01,00:00:03,00:00:05");
        await _sync.StartAsync();
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task A_destination_failing_for_a_while_gets_the_batch_redelivered_at_growing_intervals()
    {
        await OrdersTable.SeedAsync(_sync.Source, "orders_flaky", first: 1, count: 800);

        var run = await _sync.RunAsync("orders-flaky");

        Assert.True(run.State == "Completed", $"{run.State}: {run.FailureReason}\n{_sync.Logs()}");
        Assert.Equal(800, run.Inserted);
        Assert.Equal(await OrdersTable.DigestAsync(_sync.Source, "orders_flaky"), await OrdersTable.DigestAsync(_sync.Destination, "orders_flaky"));

        // The destination refuses the first 9 attempts: 4 per delivery (1 + 3 quick retries), so the
        // batch must leave and come back twice, and succeeds on the third delivery.
        var attempts = Math.Min(9, Convert.ToInt64(await OrdersTable.ScalarAsync(_sync.Destination, "SELECT last_value FROM attempt_count")));
        var stamps = new List<long>();
        for (var i = 1; i <= attempts; i++)
        {
            stamps.Add(Convert.ToInt64(await OrdersTable.ScalarAsync(_sync.Destination, $"SELECT last_value FROM attempt_at_{i}")));
        }

        // Quick retries in process, then the message leaves and comes back after 1 s, then 3 s.
        var gaps = stamps.Zip(stamps.Skip(1), (a, b) => b - a).ToList();
        var firstLong = gaps.FindIndex(g => g >= 1_000);
        var secondLong = gaps.FindIndex(g => g >= 3_000);
        Assert.Equal(9, attempts);
        Assert.True(firstLong >= 0 && secondLong > firstLong, $"gaps between attempts (ms): {string.Join(", ", gaps)}");
        Assert.Equal(0, await ErrorQueueDepthAsync());
    }

    [Fact]
    public async Task A_batch_the_destination_refuses_ends_in_the_error_queue_without_blocking_the_others()
    {
        await OrdersTable.SeedAsync(_sync.Source, "orders_poisoned", first: 1, count: 3_000);

        var run = await _sync.RunAsync("orders-poisoned");

        Assert.Equal("Failed", run.State);
        Assert.Contains("load", run.FailureReason, StringComparison.Ordinal);
        Assert.Contains("refuses_some", run.FailureReason, StringComparison.Ordinal);
        await WaitUntilAsync(async () => await OrdersTable.CountAsync(_sync.Destination, "orders_poisoned") == 2_000);
        Assert.Equal(0L, await OrdersTable.ScalarAsync(_sync.Destination, "SELECT count(*) FROM orders_poisoned WHERE id BETWEEN 1001 AND 2000"));
        Assert.Equal(1, await ErrorQueueDepthAsync());
        Assert.Null(await OrdersTable.ScalarAsync(_sync.Control, "SELECT cursor FROM sync_watermarks WHERE key = 'orders-poisoned'"));

        // The batch is a message dead letter too, and goes back to the Loader from its error queue once the destination is fixed.
        await WaitUntilAsync(async () => (await ListDeadLettersAsync("job=orders-poisoned&kind=message")).Count > 0);
        var letter = Assert.Single(await ListDeadLettersAsync("job=orders-poisoned&kind=message"));
        Assert.Equal(("load", "load-batch", 2, "pending", run.RunId), (letter.Stage, letter.Queue, letter.BatchSeq, letter.Status, letter.RunId));
        Assert.Contains("refuses_some", letter.Error, StringComparison.Ordinal);
        await OrdersTable.ExecuteAsync(_sync.Destination, "DROP TRIGGER refuses_some ON orders_poisoned");
        using (var replay = await _sync.Http.PostAsync("/api/error-queues/load-batch/replay", content: null))
        {
            Assert.Equal("""{"queue":"load-batch","moved":1,"deadLettersResolved":1}""", await replay.EnsureSuccessStatusCode().Content.ReadAsStringAsync());
        }

        await WaitUntilAsync(async () => await OrdersTable.CountAsync(_sync.Destination, "orders_poisoned") == 3_000);
        await BrokerQueues.WaitUntilDrainedAsync(_sync);
        Assert.Equal(0, await ErrorQueueDepthAsync());
        Assert.Equal(await OrdersTable.DigestAsync(_sync.Source, "orders_poisoned"), await OrdersTable.DigestAsync(_sync.Destination, "orders_poisoned"));
        Assert.Equal("replayed", Assert.Single(await ListDeadLettersAsync("job=orders-poisoned&kind=message")).Status);
        using (var again = await _sync.Http.PostAsync("/api/error-queues/load-batch/replay", content: null))
        {
            Assert.Contains("\"moved\":0", await again.EnsureSuccessStatusCode().Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // The failed run left its watermark; the next run reads from there and completes.
        var repaired = await _sync.RunAsync("orders-poisoned");
        Assert.Equal("Completed", repaired.State);
        Assert.Equal(await OrdersTable.DigestAsync(_sync.Source, "orders_poisoned"), await OrdersTable.DigestAsync(_sync.Destination, "orders_poisoned"));
    }

    private async Task<List<Failures.DeadLetterResult>> ListDeadLettersAsync(string query) =>
        (await _sync.Http.GetFromJsonAsync<List<Failures.DeadLetterResult>>($"/api/dead-letters?{query}", new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web)))!;

    private async Task<long> ErrorQueueDepthAsync() =>
        (await BrokerQueues.ReadAsync(_sync)).FirstOrDefault(q => q.Name == "load-batch_error")?.Ready ?? 0;

    private static async Task WaitUntilAsync(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException("The condition did not hold within 60 s.");
            }

            await Task.Delay(200);
        }
    }
}
