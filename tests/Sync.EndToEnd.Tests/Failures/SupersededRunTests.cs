using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// A batch of a run that has ended can still be on its way: a second extraction of a redelivered
/// ExtractBatches, or a redelivery delayed by minutes. Once a later run of the job has loaded, such a
/// batch must not overwrite the later run's newer rows (I1, I2).
/// </summary>
public sealed class SupersededRunTests(ITestOutputHelper output)
{
    private const int Rows = 6_000;
    private const int Changed = 2_000;

    [Fact]
    public async Task A_batch_of_an_earlier_run_arriving_after_a_later_run_loaded_changes_nothing()
    {
        // source-wins overwrites whatever differs, so an older version arriving late would win there.
        await using var sync = await OrdersSync.CreateAsync("superseded", Rows, output, batchSize: 500, conflict: "source-wins");
        await sync.StartAndLoadAsync();
        await using var probe = await BusProbe.StartAsync(sync.Deployment);

        await sync.ChangeSourceAsync(Changed);
        var earlier = await sync.Deployment.RunAsync(sync.Job);
        Assert.Equal("Completed", earlier.State);
        await BusProbe.WaitUntilAsync(
            () => probe.LoadBatches(earlier.RunId).Count >= earlier.ExpectedBatches,
            () => $"The probe saw {probe.LoadBatches(earlier.RunId).Count} LoadBatch of {earlier.ExpectedBatches}.");

        // The same rows change again and a later run loads their newer versions.
        await sync.ChangeSourceAsync(Changed);
        var later = await sync.Deployment.RunAsync(sync.Job);
        Assert.Equal("Completed", later.State);
        Assert.Equal(Changed, later.Updated);
        var source = await OrdersTable.DigestAsync(sync.Deployment.Source, sync.Table);
        Assert.Equal(source, await OrdersTable.DigestAsync(sync.Deployment.Destination, sync.Table));

        // The earlier run's batches again, as another extraction of that run would send them: a new
        // extraction id, new message ids, so no inbox has seen them.
        var lateExtraction = Guid.NewGuid();
        var late = probe.LoadBatches(earlier.RunId);
        foreach (var seen in late)
        {
            await probe.PublishAsync(seen.Message with { ExtractionId = lateExtraction });
        }

        await BrokerQueues.WaitUntilDrainedAsync(sync.Deployment);
        output.WriteLine($"Published {late.Count} batches of run {earlier.RunId} after run {later.RunId} completed");

        Assert.Equal(source, await OrdersTable.DigestAsync(sync.Deployment.Destination, sync.Table));
        Assert.Equal(0L, await OrdersTable.ScalarAsync(
            sync.Deployment.Destination, "SELECT count(*) FROM sync.applied_batches WHERE extraction_id = $1", lateExtraction));
        Assert.Equal(later, await sync.Deployment.GetRunAsync(later.RunId));
        await sync.AssertWatermarkAtSourceMaxAsync();
        await sync.AssertOneMetricsRowPerFinishedRunAsync(later);
        Assert.Equal(string.Empty, await BrokerQueues.DeadLetteredAsync(sync.Deployment));
    }
}
