using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// The converse of <see cref="SlowExtractionTests"/>: a run that truly makes no progress still times
/// out. The Extractor is killed while its query waits at a <see cref="SourceGate"/>, after the first
/// batches loaded; nothing reports progress any more, so the run ends Failed after the run timeout
/// with its watermark unchanged, and once the Extractor is back the next run loads every row.
/// </summary>
public sealed class StalledExtractionTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Rows = 1_000;
    private OrdersSync _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await OrdersSync.CreateAsync("stalled", Rows, output, batchSize: 100);
        var deployment = _sync.Deployment;
        // Five batches stream from the index (enable_sort off: see SlowExtractionTests), then the query waits at the gate.
        deployment.WriteJob($"{_sync.Job}.yml", SlowExtractionTests.Fixture.QueryJob(_sync.Job, _sync.Table, $"SELECT * FROM {_sync.Table} WHERE test_source_gate(id = 501)"));
        await OrdersTable.ExecuteAsync(deployment.Source, $"""
            CREATE INDEX ON {_sync.Table} (updated_at, id);
            ALTER DATABASE "{deployment.SourceDatabase}" SET enable_sort = off;
            """);
        await SourceGate.CreateFunctionAsync(deployment.Source);
        deployment.SetEnvironment("Coordinator__RunTimeout", "00:00:05");
        deployment.SetEnvironment("Coordinator__RunTimeoutSweepSeconds", "1");
        await deployment.StartAsync();
    }

    public async Task DisposeAsync() => await _sync.DisposeAsync();

    [Fact]
    public async Task A_run_whose_extractor_died_mid_extraction_times_out_and_the_next_run_loads_every_row()
    {
        var deployment = _sync.Deployment;
        await using var gate = await SourceGate.CloseAsync(deployment.Source);
        var runId = await deployment.StartRunAsync(_sync.Job);
        await gate.WaitUntilReachedAsync(deployment.Logs);
        // Not all five: the server may still hold the last rows before the gate in its send buffer.
        await _sync.WaitForLoadedBatchesAsync(runId, 3);
        await deployment.KillServiceAsync("Extractor");

        var stalled = await deployment.WaitForRunAsync(runId, TimeSpan.FromMinutes(2));
        output.WriteLine($"Run {runId}: {stalled.State} {stalled.FailureReason}, {stalled.LoadedBatches} batches loaded, {stalled.DurationMs} ms");
        Assert.Equal("Failed", stalled.State);
        Assert.StartsWith("No progress for 00:00:05", stalled.FailureReason, StringComparison.Ordinal);
        Assert.Null(await _sync.WatermarkAsync());

        await gate.OpenAsync();
        await deployment.StartServiceAsync("Extractor");
        // The killed extraction's ExtractBatches comes back to the new Extractor; the Coordinator gives
        // the failed run no fence, so it extracts nothing. Once it is consumed the pipeline is up again:
        // a run started before could wait in the Extractor's queue, making no progress, past the 5 s timeout.
        await BrokerQueues.WaitUntilDrainedAsync(deployment);
        Assert.Equal(1L, await OrdersTable.ScalarAsync(
            deployment.Destination, "SELECT count(DISTINCT extraction_id) FROM sync.applied_batches WHERE run_id = $1", runId));
        var next = await deployment.RunAsync(_sync.Job, TimeSpan.FromMinutes(2));
        Assert.True(next.State == "Completed", $"{next.State}: {next.FailureReason}\n{deployment.Logs()}");
        Assert.Equal(await OrdersTable.DigestAsync(deployment.Source, _sync.Table), await OrdersTable.DigestAsync(deployment.Destination, _sync.Table));
        await _sync.AssertWatermarkAtSourceMaxAsync();
    }
}
