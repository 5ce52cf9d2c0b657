using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// kill -9 of one pipeline service in the middle of a multi-batch run, then a fresh process of it
/// (I5): the run finishes, or fails and the next run repairs, with I1–I3 intact. The seed picks the
/// moment, counted in the killed service's own output so that it still has work when it dies:
/// batches extracted (seen on the bus), transformed (seen on the bus) or applied to the destination.
/// The batch with the run's newest row waits in the destination until the service is dead, so the
/// run is still under way at the kill with a source small enough to load in seconds.
/// </summary>
/// One class per service: xUnit runs the classes side by side, each row of one class in turn.
public abstract class ServiceCrashTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Rows = 12_000;
    private const int BatchSize = 100;
    private OrdersSync _sync = null!;
    private BusProbe _probe = null!;

    public async Task InitializeAsync()
    {
        _sync = await OrdersSync.CreateAsync("kill", Rows, output, BatchSize);
        // Started before the first load, so that the probe keeps pace with the Extractor when it counts.
        _probe = await BusProbe.StartAsync(_sync.Deployment);
        await _sync.StartAndLoadAsync();
    }

    public async Task DisposeAsync()
    {
        await _probe.DisposeAsync();
        await _sync.DisposeAsync();
    }

    protected async Task KillMidRunAsync(string service, int seed)
    {
        var random = new Random(seed);
        var changed = await _sync.ChangeSourceAsync(Rows / 2);
        var batches = changed / BatchSize;
        var committed = await _sync.WatermarkAsync();
        await using var watch = await WatermarkWatch.StartAsync(_sync.Deployment, _sync.Job);
        await using var gate = await _sync.CloseGateOnNewestRowAsync();

        var runId = await _sync.Deployment.StartRunAsync(_sync.Job);
        switch (service)
        {
            case "Extractor":
                // Extraction and transformation outpace loading by far: kill them early.
                var extracted = random.Next(1, batches / 10);
                await BusProbe.WaitUntilAsync(
                    () => _probe.TransformBatches(runId).Count >= extracted,
                    () => $"Run {runId} never extracted {extracted} batches.\n{_sync.Deployment.Logs()}");
                break;
            case "Transformer":
                var transformed = random.Next(1, batches / 4);
                await BusProbe.WaitUntilAsync(
                    () => _probe.LoadBatches(runId).Count >= transformed,
                    () => $"Run {runId} never transformed {transformed} batches.\n{_sync.Deployment.Logs()}");
                break;
            default:
                await _sync.WaitForAppliedBatchesAsync(runId, random.Next(1, batches * 3 / 4));
                break;
        }

        var copying = await _sync.ExtractionUnderWayAsync();
        await _sync.Deployment.KillServiceAsync(service);
        output.WriteLine(
            $"Killed the {service} {(copying ? "while the Extractor was still reading" : "after the Extractor had read everything")}: of {batches} batches, " +
            $"{_probe.TransformBatches(runId).Count} extracted, {_probe.LoadBatches(runId).Count} transformed, {await _sync.AppliedBatchesAsync(runId)} applied");
        await _sync.AssertWatermarkHeldUnlessCompletedAsync(runId, committed);
        await gate.OpenAsync();
        await Task.Delay(random.Next(0, 2_000));
        await _sync.Deployment.StartServiceAsync(service);

        var completed = await _sync.FinishOrRepairAsync(runId, committed);
        output.WriteLine($"Extractions seen for the run: {_probe.TransformBatches(runId).Select(m => m.Message.ExtractionId).Distinct().Count()}");
        await watch.AssertNeverMovedAheadOfARunAsync();
        await _sync.AssertEveryChangeArrivedOnceAsync(completed, changed);
    }
}

public sealed class ExtractorCrashTests(ITestOutputHelper output) : ServiceCrashTests(output)
{
    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public Task Killed_extractor_restarts_and_every_row_arrives_once(int seed) => KillMidRunAsync("Extractor", seed);
}

public sealed class TransformerCrashTests(ITestOutputHelper output) : ServiceCrashTests(output)
{
    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    public Task Killed_transformer_restarts_and_every_row_arrives_once(int seed) => KillMidRunAsync("Transformer", seed);
}

public sealed class LoaderCrashTests(ITestOutputHelper output) : ServiceCrashTests(output)
{
    [Theory]
    [InlineData(31)]
    [InlineData(32)]
    [InlineData(33)]
    public Task Killed_loader_restarts_and_every_row_arrives_once(int seed) => KillMidRunAsync("Loader", seed);
}
