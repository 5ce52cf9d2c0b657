using Sync.EndToEnd.Tests.Failures;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// The Coordinator dies by SIGKILL in the middle of a run and comes back. The batch with the run's
/// newest row waits in the destination until the Coordinator is dead, so the run is still under
/// way at the kill with a source small enough to load in seconds.
/// </summary>
public sealed class CoordinatorCrashTests : IAsyncLifetime
{
    private const string Table = "orders";
    private const int Rows = 30_000;
    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncDeployment.CreateAsync("crash");
        await OrdersTable.CreateAsync(_sync.Source, Table);
        await OrdersTable.CreateAsync(_sync.Destination, Table);
        _sync.WriteJob("orders.yml", OrdersTable.Job("orders", Table, batchSize: 200));
        // A run whose messages died with the Coordinator must not hold the job for long.
        _sync.SetEnvironment("Coordinator__RunTimeout", "00:00:20");
        _sync.SetEnvironment("Coordinator__RunTimeoutSweepSeconds", "2");
        await _sync.StartAsync();
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Theory]
    [InlineData(10)]
    [InlineData(60)]
    public async Task Killed_coordinator_restarts_and_the_destination_ends_equal_to_the_source(int batchesBeforeKill)
    {
        await OrdersTable.SeedAsync(_sync.Source, Table, first: 1, count: Rows);
        Assert.Equal("Completed", (await _sync.RunAsync("orders", TimeSpan.FromMinutes(3))).State);
        var committed = await WatermarkAsync();

        await OrdersTable.UpdateAsync(_sync.Source, Table, count: Rows / 2, total: Rows);
        await using var gate = await DestinationGate.CloseOnNewestRowAsync(_sync.Source, _sync.Destination, Table);
        var runId = await _sync.StartRunAsync("orders");
        await WaitForLoadedBatchesAsync(runId, batchesBeforeKill);
        await _sync.Coordinator.KillAsync();

        // Dead Coordinator: whatever was loaded, the watermark has not moved past it.
        Assert.Equal(committed, await WatermarkAsync());
        await gate.OpenAsync();

        await _sync.RestartCoordinatorAsync();
        var run = await _sync.WaitForRunAsync(runId, TimeSpan.FromMinutes(3));
        if (run.State != "Completed")
        {
            // The run could not finish (its messages were lost with the process): the next one repairs.
            Assert.Equal(committed, await WatermarkAsync());
            run = await _sync.RunAsync("orders", TimeSpan.FromMinutes(3));
        }

        Assert.Equal("Completed", run.State);
        Assert.Equal(await OrdersTable.DigestAsync(_sync.Source, Table), await OrdersTable.DigestAsync(_sync.Destination, Table));
        Assert.Equal(
            await OrdersTable.ScalarAsync(_sync.Source, $"SELECT max(updated_at) FROM {Table}"),
            await OrdersTable.ScalarAsync(_sync.Control, "SELECT last_sync FROM sync_watermarks WHERE key = 'orders'"));
        // Each finished run has exactly one metrics row.
        Assert.Equal(
            await OrdersTable.ScalarAsync(_sync.Control, "SELECT count(*) FROM sync_runs WHERE current_state IN ('Completed', 'Failed')"),
            await OrdersTable.ScalarAsync(_sync.Control, "SELECT count(*) FROM sync_metrics"));
    }

    private async Task WaitForLoadedBatchesAsync(Guid runId, int batches)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            var loaded = await OrdersTable.ScalarAsync(_sync.Control, "SELECT count(*) FROM sync_run_batches WHERE run_id = $1", runId);
            if (Convert.ToInt64(loaded) >= batches)
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"Run {runId} never loaded {batches} batches.\n{_sync.Logs()}");
    }

    private async Task<string?> WatermarkAsync() =>
        (string?)await OrdersTable.ScalarAsync(_sync.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = 'orders'");
}
