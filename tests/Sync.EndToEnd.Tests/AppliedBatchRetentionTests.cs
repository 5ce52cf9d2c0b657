using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>The Loader's inbox in the destination (sync.applied_batches) forgets batches past their retention, and only those.</summary>
public sealed class AppliedBatchRetentionTests
{
    [Fact]
    public async Task Applied_batches_past_the_retention_are_deleted_and_recent_ones_kept()
    {
        await using var sync = await SyncDeployment.CreateAsync("retention");
        await OrdersTable.CreateAsync(sync.Source, "orders");
        await OrdersTable.CreateAsync(sync.Destination, "orders");
        await OrdersTable.SeedAsync(sync.Source, "orders", first: 1, count: 3_000);
        sync.WriteJob("orders.yml", OrdersTable.Job("orders", "orders", batchSize: 500));
        sync.SetEnvironment("Loader__AppliedBatchRetention", "00:00:03");
        sync.SetEnvironment("Loader__CleanupInterval", "00:00:01");
        await sync.StartAsync();

        var run = await sync.RunAsync("orders");
        Assert.Equal("Completed", run.State);

        // A record applied "in the future" is always inside the retention: it must survive every sweep.
        await OrdersTable.ExecuteAsync(sync.Destination, """
            INSERT INTO sync.applied_batches (run_id, extraction_id, batch_seq, job_name, rows, inserted, updated, skipped, applied_at)
            VALUES (gen_random_uuid(), gen_random_uuid(), 0, 'orders', 1, 1, 0, 0, now() + interval '1 hour')
            """);
        Assert.Equal(6, run.ExpectedBatches);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline
            && (long)(await OrdersTable.ScalarAsync(sync.Destination, "SELECT count(*) FROM sync.applied_batches WHERE run_id = $1", run.RunId))! > 0)
        {
            await Task.Delay(250);
        }

        Assert.Equal(0L, await OrdersTable.ScalarAsync(sync.Destination, "SELECT count(*) FROM sync.applied_batches WHERE run_id = $1", run.RunId));
        Assert.Equal(1L, await OrdersTable.ScalarAsync(sync.Destination, "SELECT count(*) FROM sync.applied_batches"));
        Assert.Equal(await OrdersTable.DigestAsync(sync.Source, "orders"), await OrdersTable.DigestAsync(sync.Destination, "orders"));
    }
}
