using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// The same message delivered twice (I2): the test captures the real LoadBatch and BatchLoaded
/// messages of a run and publishes copies again, under their original message ids. One deployment
/// for the class, a job and table per test.
/// </summary>
public sealed class DuplicateDeliveryTests(DuplicateDeliveryTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<DuplicateDeliveryTests.Fixture>
{
    private const int Rows = 20_000;
    private const int BatchSize = 200;

    [Fact]
    public async Task Load_batch_delivered_again_is_applied_and_counted_once()
    {
        await using var sync = fixture.Sync(Fixture.LoadBatchJob, output);
        await sync.LoadAsync();
        await using var probe = await BusProbe.StartAsync(sync.Deployment);
        var changed = await sync.ChangeSourceAsync(Rows / 2);
        var run = await sync.Deployment.RunAsync(sync.Job);
        Assert.Equal("Completed", run.State);
        await BusProbe.WaitUntilAsync(
            () => probe.LoadBatches(run.RunId).Count >= run.ExpectedBatches && probe.BatchesLoaded(run.RunId).Count >= run.ExpectedBatches,
            () => $"The probe saw {probe.LoadBatches(run.RunId).Count} LoadBatch and {probe.BatchesLoaded(run.RunId).Count} BatchLoaded of {run.ExpectedBatches}.");
        await OrdersTable.ExecuteAsync(sync.Deployment.Destination, $"UPDATE {sync.Table} SET note = 'edited after the load' WHERE status = 'updated'");
        var destination = await OrdersTable.DigestAsync(sync.Deployment.Destination, sync.Table);

        var copies = probe.LoadBatches(run.RunId);
        foreach (var copy in copies)
        {
            await probe.PublishAgainAsync(copy);
        }

        await BrokerQueues.WaitUntilDrainedAsync(sync.Deployment);
        output.WriteLine($"Published {copies.Count} LoadBatch copies; the Loader answered {probe.BatchesLoaded(run.RunId).Count - run.ExpectedBatches} of them");

        Assert.Equal(destination, await OrdersTable.DigestAsync(sync.Deployment.Destination, sync.Table));
        Assert.Equal(
            (long)run.ExpectedBatches!,
            await OrdersTable.ScalarAsync(sync.Deployment.Destination, "SELECT count(*) FROM sync.applied_batches WHERE run_id = $1", run.RunId));
        await AssertCountedOnceAsync(sync, probe, run, changed);
    }

    [Fact]
    public async Task Batch_loaded_delivered_again_is_counted_once()
    {
        await using var sync = fixture.Sync(Fixture.BatchLoadedJob, output);
        await sync.LoadAsync();
        await using var probe = await BusProbe.StartAsync(sync.Deployment);
        var changed = await sync.ChangeSourceAsync(Rows / 2);

        // The first few again while the run is still loading, then every one after it completed.
        var runId = await sync.Deployment.StartRunAsync(sync.Job);
        await BusProbe.WaitUntilAsync(() => probe.BatchesLoaded(runId).Count >= 10, () => $"Run {runId} never loaded 10 batches.\n{sync.Deployment.Logs()}");
        foreach (var copy in probe.BatchesLoaded(runId).Take(10))
        {
            await probe.PublishAgainAsync(copy);
        }

        output.WriteLine($"Published 10 BatchLoaded copies while the run had {await sync.LoadedBatchesAsync(runId)} batches loaded");
        var run = await sync.Deployment.WaitForRunAsync(runId);
        Assert.Equal("Completed", run.State);
        await BusProbe.WaitUntilAsync(
            () => probe.BatchesLoaded(runId).Count >= run.ExpectedBatches + 10,
            () => $"The probe saw {probe.BatchesLoaded(runId).Count} BatchLoaded of {run.ExpectedBatches} + 10.");
        foreach (var copy in probe.BatchesLoaded(runId).DistinctBy(m => m.Message.BatchSeq))
        {
            await probe.PublishAgainAsync(copy);
        }

        await BrokerQueues.WaitUntilDrainedAsync(sync.Deployment);

        Assert.Equal(await OrdersTable.DigestAsync(sync.Deployment.Source, sync.Table), await OrdersTable.DigestAsync(sync.Deployment.Destination, sync.Table));
        await sync.AssertWatermarkAtSourceMaxAsync();
        await AssertCountedOnceAsync(sync, probe, run, changed);
    }

    private static async Task AssertCountedOnceAsync(OrdersSync sync, BusProbe probe, RunResult run, int changed)
    {
        Assert.Equal(run, await sync.Deployment.GetRunAsync(run.RunId));
        Assert.Equal(changed, run.Processed);
        Assert.Equal(changed, run.Inserted + run.Updated + run.Skipped);
        Assert.Equal(run.ExpectedBatches, run.LoadedBatches);
        Assert.Equal((long)run.ExpectedBatches!, await sync.LoadedBatchesAsync(run.RunId));
        await sync.AssertOneMetricsRowPerFinishedRunAsync(run);
        // A batch reported twice is reported with its first counts.
        Assert.All(
            probe.BatchesLoaded(run.RunId).GroupBy(m => (m.Message.ExtractionId, m.Message.BatchSeq)),
            reports => Assert.Single(reports.Select(m => m.Message).Distinct()));
        Assert.Equal(string.Empty, await BrokerQueues.DeadLetteredAsync(sync.Deployment));
    }

    public sealed class Fixture() : OrdersJobsFixture("dup")
    {
        public const string LoadBatchJob = "dup-load";
        public const string BatchLoadedJob = "dup-loaded";

        protected override async Task PrepareAsync()
        {
            // source-wins takes the source row whatever the destination holds, so a batch applied a
            // second time would overwrite what changed in the destination since the first.
            await AddJobAsync(LoadBatchJob, Rows, BatchSize, conflict: "source-wins");
            await AddJobAsync(BatchLoadedJob, Rows, BatchSize);
        }
    }
}
