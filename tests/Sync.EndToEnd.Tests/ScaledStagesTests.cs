using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Two processes of every service, Coordinator included (issue 19, item 3), on quorum queues and one
/// control database: a cron job fires once per occurrence, not once per Coordinator; each of its runs
/// completes with every batch counted once; a continuous cdc job keeps one stream (one slot, one run
/// at a time, no start refused because another Coordinator started it too) and its destination equals
/// its source. The cron job's scheduled verification (<c>verify.schedule</c>) is made once per occurrence too.
/// </summary>
public sealed class ScaledStagesTests(ITestOutputHelper output)
{
    private const int CronRows = 6_000;
    private const int CronBatchSize = 300;
    private const string CronJob = "cron-orders";
    private const string CdcJob = "cdc-orders";
    private const string CdcTable = "orders_cdc";

    [Fact]
    public async Task Two_of_every_service_fire_a_cron_once_and_keep_one_cdc_stream()
    {
        await using var sync = await CdcDeployment.CreateAsync("scaled");
        foreach (var service in new[] { "Coordinator", "Extractor", "Transformer", "Loader" })
        {
            sync.SetInstances(service, 2);
        }

        sync.SetEnvironment("RabbitMq__QueueType", "Quorum");
        await OrdersTable.CreateAsync(sync.Source, "public.orders_cron");
        await OrdersTable.CreateAsync(sync.Destination, "public.orders_cron");
        await OrdersTable.SeedAsync(sync.Source, "public.orders_cron", 1, CronRows);
        await OrdersTable.CreateAsync(sync.Source, $"public.{CdcTable}");
        await OrdersTable.CreateAsync(sync.Destination, $"public.{CdcTable}");
        await OrdersTable.SeedAsync(sync.Source, $"public.{CdcTable}", 1, 2_000);
        sync.WriteJob("cron.yml", OrdersTable.Job(CronJob, "orders_cron", CronBatchSize, extra: "schedule: \"@every_minute\"\nverify:\n  schedule: \"@every_minute\""));
        sync.WriteCdcJob("cdc.yml", CdcJob, CdcTable);
        var settledAt = DateTimeOffset.MaxValue;
        try
        {
            await sync.StartAsync();
            using var stop = new CancellationTokenSource();
            var slots = WatchSlotsAsync(sync, stop.Token);
            try
            {
                var first = await sync.WaitForScheduledRunAsync(CronJob, TimeSpan.FromMinutes(3));
                Assert.True(first.State == "Completed", $"{first}\n{sync.Logs()}");
                Assert.Equal((long)CronRows, first.Inserted);

                await sync.WaitForEqualAsync("the first copy", CdcTable);
                await OrdersTable.SeedAsync(sync.Source, $"public.{CdcTable}", 2_001, 500);
                await OrdersTable.UpdateAsync(sync.Source, $"public.{CdcTable}", count: 200, total: 2_500);
                await OrdersTable.ExecuteAsync(sync.Source, $"DELETE FROM public.{CdcTable} WHERE id % 41 = 0");
                await sync.WaitForEqualAsync("changes streamed by two of each service", CdcTable);
            }
            finally
            {
                await stop.CancelAsync();
            }

            var (mostActive, mostSlots) = await slots;
            output.WriteLine($"at most {mostActive} active and {mostSlots} slots on the source");
            Assert.Equal(1L, mostSlots);
            Assert.Equal(1L, mostActive);

            await sync.WaitUntilAsync(
                async () => Convert.ToInt64(await OrdersTable.ScalarAsync(sync.Control, "SELECT count(*) FROM sync_verifications WHERE job_name = $1", CronJob)) > 0,
                "the cron job's first scheduled verification");

            // A run of a later occurrence may be under way: let it end before the services are stopped.
            await sync.WaitUntilAsync(
                async () => Convert.ToInt64(await OrdersTable.ScalarAsync(sync.Control,
                    "SELECT count(*) FROM sync_runs WHERE job_name = $1 AND current_state IN ('Extracting', 'Loading')", CronJob)) == 0,
                "the cron job's runs ended");
            settledAt = DateTimeOffset.UtcNow;
        }
        finally
        {
            foreach (var service in sync.Services("Coordinator").Concat(sync.Services("Extractor")))
            {
                await service.KillAsync();
            }

            await OrdersTable.ExecuteAsync(sync.Source, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active");
        }

        Assert.Equal(await OrdersTable.DigestAsync(sync.Source, "public.orders_cron"), await OrdersTable.DigestAsync(sync.Destination, "public.orders_cron"));

        // Scheduled verifications are claimed as cron starts are (issue 19): one per occurrence, not one per
        // Coordinator. The job's runs fire on the same schedule and are claimed once, so there are no more
        // verifications than scheduled runs (before the fix, about twice as many: 3 finished in one minute).
        // Counted, not grouped by minute: a verification queued behind another may finish in the next one.
        var verified = Convert.ToInt64(await OrdersTable.ScalarAsync(sync.Control, "SELECT count(*) FROM sync_verifications WHERE job_name = $1", CronJob));
        var scheduled = Convert.ToInt64(await OrdersTable.ScalarAsync(sync.Control, "SELECT count(*) FROM sync_runs WHERE job_name = $1 AND trigger = 'schedule'", CronJob));
        Assert.True(verified >= 1 && verified <= scheduled, $"{verified} scheduled verifications for {scheduled} scheduled runs");

        // Once per occurrence: as many scheduled runs as minutes they were asked in, none refused
        // because the other Coordinator had started the same occurrence.
        var runs = (await RunsAsync(sync, CronJob)).Where(r => r.RequestedAt < settledAt).ToList();
        var cdcRuns = await RunsAsync(sync, CdcJob);
        output.WriteLine(string.Join('\n', runs.Concat(cdcRuns)));
        Assert.All(runs, r => Assert.Equal("schedule", r.Trigger));
        Assert.Equal(runs.Select(r => r.RequestedAt.ToUnixTimeSeconds() / 60).Distinct().Count(), runs.Count);
        Assert.All(runs, r => Assert.True(r.State == "Completed", $"{r}\n{sync.Logs()}"));

        // The saga stayed consistent: each run counted each of its batches once, and the rows they carried.
        Assert.Equal(0L, await OrdersTable.ScalarAsync(sync.Control, """
            SELECT count(*) FROM sync_runs r
            WHERE job_name = $1 AND requested_at < $2 AND (r.loaded_batches <> r.expected_batches
                OR r.loaded_batches <> (SELECT count(*) FROM sync_run_batches b WHERE b.run_id = r.correlation_id)
                OR r.processed <> (SELECT coalesce(sum(rows), 0) FROM sync_run_batches b WHERE b.run_id = r.correlation_id))
            """, CronJob, settledAt));
        Assert.Equal((long)(CronRows / CronBatchSize), await OrdersTable.ScalarAsync(sync.Control,
            "SELECT count(*) FROM sync_run_batches WHERE run_id = $1", runs[0].RunId));

        // One stream: no cdc start refused as a duplicate, and no two of its runs overlapping.
        Assert.DoesNotContain(cdcRuns, r => r.State == "Rejected");
        Assert.Equal(0L, await OrdersTable.ScalarAsync(sync.Control, """
            SELECT count(*) FROM sync_runs a JOIN sync_runs b ON a.job_name = b.job_name AND a.correlation_id < b.correlation_id
            WHERE a.job_name = $1
              AND tstzrange(a.started_at, coalesce(a.finished_at, 'infinity')) && tstzrange(b.started_at, coalesce(b.finished_at, 'infinity'))
            """, CdcJob));
    }

    private sealed record Run(Guid RunId, string State, string Trigger, DateTimeOffset RequestedAt);

    private static async Task<List<Run>> RunsAsync(SyncDeployment sync, string job)
    {
        await using var connection = new Npgsql.NpgsqlConnection(sync.Control);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT correlation_id, current_state, trigger, requested_at FROM sync_runs WHERE job_name = $1 ORDER BY requested_at", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = job });
        await using var reader = await command.ExecuteReaderAsync();
        var runs = new List<Run>();
        while (await reader.ReadAsync())
        {
            runs.Add(new Run(reader.GetGuid(0), reader.GetString(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3)));
        }

        return runs;
    }

    // The most replication slots the source had, and the most of them read at once, while the test ran.
    private static async Task<(long Active, long Slots)> WatchSlotsAsync(SyncDeployment sync, CancellationToken cancellationToken)
    {
        long active = 0, slots = 0;
        while (!cancellationToken.IsCancellationRequested)
        {
            active = Math.Max(active, Convert.ToInt64(await OrdersTable.ScalarAsync(sync.Source,
                "SELECT count(*) FROM pg_replication_slots WHERE database = current_database() AND active")));
            slots = Math.Max(slots, Convert.ToInt64(await OrdersTable.ScalarAsync(sync.Source,
                "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()")));
            await Task.Delay(100, CancellationToken.None);
        }

        return (active, slots);
    }
}
