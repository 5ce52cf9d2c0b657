using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// RabbitMQ goes away in the middle of a multi-batch run and comes back a few seconds later (I5).
/// The services stay up and reconnect by themselves; nothing is restarted for them. Under load,
/// stopping the broker takes its CLI several seconds, longer than a whole run: the Loader is frozen
/// (SIGSTOP) while the stop is under way, so the run is still loading when the connections drop,
/// and thawed for the outage itself. That freeze is what once left the Loader consuming nothing
/// after the broker came back: the deliveries it held when the connection dropped could not finish
/// and kept every slot of a consumer-level concurrency limit, so the new channel's deliveries
/// waited behind them for good (the limit now sits on the endpoint, whose channel is replaced).
/// The batch with the run's newest row waits in the destination until the broker is back, so the
/// run cannot have completed before the outage however fast the machine.
/// </summary>
[Collection(ExclusiveInfrastructure.Name)]
[Trait("Category", ExclusiveInfrastructure.Category)]
public sealed class BrokerOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Rows = 21_000;
    private const int BatchSize = 100;
    private OrdersSync _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await OrdersSync.CreateAsync("broker", Rows, output, BatchSize);
        await _sync.StartAndLoadAsync();
    }

    public async Task DisposeAsync()
    {
        // Whatever happened, the next test finds the broker up.
        await TestInfrastructure.StartRabbitMqAsync();
        await _sync.DisposeAsync();
    }

    [Theory]
    [InlineData(0, 3_000)]
    [InlineData(20, 5_000)]
    [InlineData(150, 3_000)]
    public async Task Broker_stopped_mid_run_and_started_again_loses_and_repeats_nothing(int batchesApplied, int outageMs)
    {
        var changed = await _sync.ChangeSourceAsync(Rows * 3 / 4);
        var batches = changed / BatchSize;
        var committed = await _sync.WatermarkAsync();
        await using var watch = await WatermarkWatch.StartAsync(_sync.Deployment, _sync.Job);
        await using var gate = await _sync.CloseGateOnNewestRowAsync();

        var runId = await _sync.Deployment.StartRunAsync(_sync.Job);
        await _sync.WaitForAppliedBatchesAsync(runId, batchesApplied);
        var loader = _sync.Deployment.Service("Loader");
        await loader.PauseAsync();
        try
        {
            await TestInfrastructure.StopRabbitMqAsync();
        }
        finally
        {
            await loader.ResumeAsync();
        }

        output.WriteLine($"Stopped RabbitMQ with {await _sync.AppliedBatchesAsync(runId)} batches of {batches} applied, {await _sync.LoadedBatchesAsync(runId)} recorded");
        try
        {
            await Task.Delay(outageMs);
            await _sync.AssertWatermarkHeldUnlessCompletedAsync(runId, committed);
        }
        finally
        {
            await TestInfrastructure.StartRabbitMqAsync();
        }

        await gate.OpenAsync();
        var completed = await _sync.FinishOrRepairAsync(runId, committed);
        await watch.AssertNeverMovedAheadOfARunAsync();
        await _sync.AssertEveryChangeArrivedOnceAsync(completed, changed);
        _sync.AssertEveryServiceStillRuns();
    }
}
