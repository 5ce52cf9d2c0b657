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

    /// <summary>
    /// Issue 13, item 6: an extraction of a run dies after publishing some batches, the source
    /// changes, and the message's retry extracts again; the first extraction's batches, held up (a
    /// redelivery delay, a slow Loader), arrive after the retry's were loaded and the run completed
    /// with its watermark past the newer rows. Here those late batches carry the older images (the
    /// previous run's, captured) under the run's id and the run's own fence, as an extraction that
    /// started before the accepted one sends them. latest-wins (by the cursor) and dest-wins never let
    /// an older image win; source-wins and merge would.
    /// </summary>
    [Theory]
    [InlineData("source-wins")]
    [InlineData("merge")]
    public async Task A_batch_of_an_earlier_extraction_of_a_run_arriving_after_the_run_loaded_changes_nothing(string conflict)
    {
        await using var sync = await OrdersSync.CreateAsync($"supersededx-{conflict}", Rows, output, batchSize: 500, conflict: conflict);
        await sync.StartAndLoadAsync();
        await using var probe = await BusProbe.StartAsync(sync.Deployment);

        await sync.ChangeSourceAsync(Changed);
        var older = await sync.Deployment.RunAsync(sync.Job);
        Assert.Equal("Completed", older.State);
        await BusProbe.WaitUntilAsync(
            () => probe.LoadBatches(older.RunId).Count >= older.ExpectedBatches,
            () => $"The probe saw {probe.LoadBatches(older.RunId).Count} LoadBatch of {older.ExpectedBatches}.");

        await sync.ChangeSourceAsync(Changed);
        var run = await sync.Deployment.RunAsync(sync.Job);
        Assert.Equal("Completed", run.State);
        var source = await OrdersTable.DigestAsync(sync.Deployment.Source, sync.Table);
        Assert.Equal(source, await OrdersTable.DigestAsync(sync.Deployment.Destination, sync.Table));
        var runFence = Assert.Single(probe.ExtractBatches(run.RunId)).Message.Fence;

        var earlierExtraction = Guid.NewGuid();
        var late = probe.LoadBatches(older.RunId);
        foreach (var seen in late)
        {
            await probe.PublishAsync(seen.Message with { RunId = run.RunId, ExtractionId = earlierExtraction, Fence = runFence });
        }

        await BrokerQueues.WaitUntilDrainedAsync(sync.Deployment);
        output.WriteLine($"Published {late.Count} batches of an earlier extraction of run {run.RunId} after it completed");

        Assert.Equal(source, await OrdersTable.DigestAsync(sync.Deployment.Destination, sync.Table));
        Assert.Equal(0L, await OrdersTable.ScalarAsync(
            sync.Deployment.Destination, "SELECT count(*) FROM sync.applied_batches WHERE extraction_id = $1", earlierExtraction));
        Assert.Equal(run, await sync.Deployment.GetRunAsync(run.RunId));
        await sync.AssertWatermarkAtSourceMaxAsync();
        Assert.Equal(string.Empty, await BrokerQueues.DeadLetteredAsync(sync.Deployment));
    }

    /// <summary>
    /// The run's ExtractBatches delivered again after the run completed (a redelivery): the
    /// extraction asks for its fence, the Coordinator answers that the run needs none, and nothing
    /// is extracted or loaded again.
    /// </summary>
    [Fact]
    public async Task An_extract_command_delivered_again_after_its_run_completed_extracts_nothing()
    {
        await using var sync = await OrdersSync.CreateAsync("extractagain", 2_000, output, batchSize: 500, conflict: "source-wins");
        await sync.Deployment.StartAsync();
        await using var probe = await BusProbe.StartAsync(sync.Deployment);
        var run = await sync.Deployment.RunAsync(sync.Job);
        Assert.Equal("Completed", run.State);
        var extract = Assert.Single(probe.ExtractBatches(run.RunId));
        var batches = probe.TransformBatches(run.RunId).Count;

        await probe.PublishAsync(extract.Message);
        await BusProbe.WaitUntilAsync(() => probe.ExtractBatches(run.RunId).Count == 2, () => "The probe never saw the ExtractBatches again.");
        await BrokerQueues.WaitUntilDrainedAsync(sync.Deployment);

        Assert.Equal(batches, probe.TransformBatches(run.RunId).Count);
        Assert.Equal(run, await sync.Deployment.GetRunAsync(run.RunId));
        Assert.Equal((long)run.ExpectedBatches!, await OrdersTable.ScalarAsync(
            sync.Deployment.Destination, "SELECT count(*) FROM sync.applied_batches WHERE run_id = $1", run.RunId));
    }
}
