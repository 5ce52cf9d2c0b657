using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// PostgreSQL — host of the control, source and destination databases — restarts in the middle of
/// a multi-batch run (I5). Every open connection is cut; the services stay up and reconnect.
/// The batch with the run's newest row waits in the destination on a lock that the restart
/// releases (it ends the session holding it), so the run is still loading when PostgreSQL stops.
/// </summary>
[Collection(ExclusiveInfrastructure.Name)]
[Trait("Category", ExclusiveInfrastructure.Category)]
public sealed class DatabaseRestartTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Rows = 10_000;
    private const int BatchSize = 100;
    private OrdersSync _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await OrdersSync.CreateAsync("pgrestart", Rows, output, BatchSize);
        await _sync.StartAndLoadAsync();
    }

    public async Task DisposeAsync()
    {
        // Whatever happened, the next test finds PostgreSQL up.
        await TestInfrastructure.StartPostgresAsync();
        await _sync.DisposeAsync();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(5)]
    [InlineData(20)]
    public async Task Postgres_restarted_mid_run_loses_and_repeats_nothing(int batchesBeforeRestart)
    {
        var changed = await _sync.ChangeSourceAsync(Rows * 3 / 4);
        var batches = changed / BatchSize;
        var committed = await _sync.WatermarkAsync();
        await using var watch = await WatermarkWatch.StartAsync(_sync.Deployment, _sync.Job);
        await using var gate = await _sync.CloseGateOnNewestRowAsync();

        // 0: as the run starts, while the Coordinator begins it and the Extractor reads.
        var runId = await _sync.Deployment.StartRunAsync(_sync.Job);
        await _sync.WaitForLoadedBatchesAsync(runId, batchesBeforeRestart);
        var restarting = await _sync.LoadedBatchesAsync(runId);
        await TestInfrastructure.RestartPostgresAsync();
        output.WriteLine($"Restarted PostgreSQL: {restarting} batches of {batches} were loaded when the restart began, {await _sync.LoadedBatchesAsync(runId)} after it");
        await _sync.AssertWatermarkHeldUnlessCompletedAsync(runId, committed);

        var completed = await _sync.FinishOrRepairAsync(runId, committed);
        await watch.AssertNeverMovedAheadOfARunAsync();
        await _sync.AssertEveryChangeArrivedOnceAsync(completed, changed);
        _sync.AssertEveryServiceStillRuns();
    }
}
