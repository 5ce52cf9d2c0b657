using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>A job's own <c>retry: redelivery:</c> waits, not the service-wide ones, pace the redelivery of its batches.</summary>
public sealed class JobRedeliveryTests : IAsyncLifetime
{
    private const string Table = "orders_paced";
    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncDeployment.CreateAsync("jobretry");
        await OrdersTable.CreateAsync(_sync.Source, Table);
        await OrdersTable.CreateAsync(_sync.Destination, Table);
        _sync.WriteJob("orders-paced.yml", OrdersTable.Job("orders-paced", Table, extra: "retry:\n  redelivery: [1s, 2s, 1s]"));

        // As in RedeliveryTests: failed attempts roll back, so their times go on sequences.
        await OrdersTable.ExecuteAsync(_sync.Destination, $"""
            CREATE SEQUENCE attempt_count;
            DO $$ BEGIN FOR i IN 1..20 LOOP EXECUTE format('CREATE SEQUENCE attempt_at_%s', i); END LOOP; END $$;
            CREATE FUNCTION flaky() RETURNS trigger LANGUAGE plpgsql AS $$
            DECLARE n bigint;
            BEGIN
                n := nextval('attempt_count');
                PERFORM setval(format('attempt_at_%s', n), (extract(epoch FROM clock_timestamp()) * 1000)::bigint);
                IF n <= 8 THEN
                    RAISE EXCEPTION 'destination is busy' USING ERRCODE = 'serialization_failure';
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER flaky BEFORE INSERT ON {Table} FOR EACH STATEMENT EXECUTE FUNCTION flaky();
            """);

        // The service-wide default is far longer: a run paced by it could not finish in the test's time.
        _sync.SetEnvironment("Redelivery__Intervals", "00:01:00,00:01:00");
        await _sync.StartAsync();
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task A_job_with_its_own_redelivery_waits_is_redelivered_after_them()
    {
        await OrdersTable.SeedAsync(_sync.Source, Table, first: 1, count: 500);

        var run = await _sync.RunAsync("orders-paced", TimeSpan.FromSeconds(50));

        Assert.True(run.State == "Completed", $"{run.State}: {run.FailureReason}\n{_sync.Logs()}");
        Assert.Equal(500, run.Inserted);
        Assert.Equal(await OrdersTable.DigestAsync(_sync.Source, Table), await OrdersTable.DigestAsync(_sync.Destination, Table));

        // 4 attempts per delivery (1 + the connector's 3 quick retries): attempts 1–4, 5–8, then 9
        // succeeds. Between deliveries the message waits in the delay queue for the job's 1 s, then 2 s.
        Assert.Equal(9L, await OrdersTable.ScalarAsync(_sync.Destination, "SELECT last_value FROM attempt_count"));
        var stamps = new List<long>();
        for (var i = 1; i <= 9; i++)
        {
            stamps.Add(Convert.ToInt64(await OrdersTable.ScalarAsync(_sync.Destination, $"SELECT last_value FROM attempt_at_{i}")));
        }

        var gaps = stamps.Zip(stamps.Skip(1), (a, b) => b - a).ToList();
        var shown = $"gaps between attempts (ms): {string.Join(", ", gaps)}";
        Assert.True(gaps[3] is >= 1_000 and < 4_000, shown);
        Assert.True(gaps[7] is >= 2_000 and < 5_000, shown);
        Assert.True(gaps.Max() < 10_000, shown);
    }
}
