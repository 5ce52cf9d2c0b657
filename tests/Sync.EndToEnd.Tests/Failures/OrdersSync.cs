using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// One orders job of a deployment for a failure test: a first complete load, then a run of changed
/// rows that a fault hits, then the checks every failure must leave true (I1–I3). Tests that kill
/// or pause a service own their deployment (<see cref="CreateAsync"/>); the others share one per
/// class (<see cref="OrdersJobsFixture"/>), each with its own job and table.
/// </summary>
internal sealed class OrdersSync : IAsyncDisposable
{
    private readonly bool _ownsDeployment;

    private OrdersSync(SyncDeployment deployment, string job, string table, int rows, ITestOutputHelper output, bool ownsDeployment)
    {
        Deployment = deployment;
        Job = job;
        Table = table;
        Rows = rows;
        Output = output;
        _ownsDeployment = ownsDeployment;
    }

    public string Job { get; }

    /// <summary>The job's table, of the same name in the source and the destination.</summary>
    public string Table { get; }

    /// <summary>What happened, for the reader of a test run: the fault's moment, the runs' ends.</summary>
    public ITestOutputHelper Output { get; }

    public SyncDeployment Deployment { get; }

    /// <summary>Rows in the source after seeding (ids 1..Rows).</summary>
    public int Rows { get; }

    /// <summary>
    /// A deployment whose runs time out after 20 s without progress (a run whose messages died with
    /// a process must not hold the job for long), with the orders job and <paramref name="rows"/>
    /// source rows; the services are not started.
    /// </summary>
    public static async Task<OrdersSync> CreateAsync(
        string name, int rows, ITestOutputHelper output, int batchSize = 200, string conflict = "latest-wins")
    {
        var deployment = await SyncDeployment.CreateAsync(name);
        await AddJobAsync(deployment, "orders", "orders", rows, batchSize, conflict);
        return new OrdersSync(deployment, "orders", "orders", rows, output, ownsDeployment: true);
    }

    /// <summary>
    /// Adds an orders job to a deployment whose services are not started yet: its table on both
    /// sides, its job file (reading through the connection <paramref name="sourceConnection"/>),
    /// <paramref name="rows"/> source rows, and the 20 s run timeout of <see cref="CreateAsync"/>.
    /// </summary>
    public static async Task AddJobAsync(
        SyncDeployment deployment, string job, string table, int rows, int batchSize = 200, string conflict = "latest-wins", string sourceConnection = "source")
    {
        await OrdersTable.CreateAsync(deployment.Source, table);
        await OrdersTable.CreateAsync(deployment.Destination, table);
        deployment.WriteJob(
            $"{job}.yml",
            OrdersTable.Job(job, table, batchSize, sourceConnection: sourceConnection).Replace("  key: [id]", $"  key: [id]\n  conflict: {conflict}", StringComparison.Ordinal));
        deployment.SetEnvironment("Coordinator__RunTimeout", "00:00:20");
        deployment.SetEnvironment("Coordinator__RunTimeoutSweepSeconds", "2");
        await OrdersTable.SeedAsync(deployment.Source, table, first: 1, count: rows);
    }

    /// <summary>A job that <see cref="AddJobAsync"/> added to a shared deployment, for one test; disposing it leaves the deployment running.</summary>
    public static OrdersSync Of(SyncDeployment deployment, string job, string table, int rows, ITestOutputHelper output) =>
        new(deployment, job, table, rows, output, ownsDeployment: false);

    /// <summary>Starts the services and loads every source row once, undisturbed.</summary>
    public async Task StartAndLoadAsync()
    {
        await Deployment.StartAsync();
        await LoadAsync();
    }

    /// <summary>Loads every source row of the job once, undisturbed (the services already run).</summary>
    public async Task LoadAsync()
    {
        var first = await Deployment.RunAsync(Job, TimeSpan.FromMinutes(2));
        Assert.True(first.State == "Completed", $"{first}\n{Deployment.Logs()}");
        // Every row once in the run's accepted extraction, and all of them in the destination. Not
        // Inserted == Rows alone: on a loaded machine an extraction may be begun again (its request to
        // the Coordinator timed out), and the rows the first attempt loaded count as updated or skipped.
        Assert.True(first.Processed == Rows && first.Inserted + first.Updated + first.Skipped == Rows, $"{first}\n{Deployment.Logs()}");
        Assert.Equal(Rows, Convert.ToInt64(await OrdersTable.ScalarAsync(Deployment.Destination, $"SELECT count(*) FROM {Table}")));
    }

    /// <summary>Touches <paramref name="count"/> source rows, as an application would; returns how many changed.</summary>
    public async Task<int> ChangeSourceAsync(int count)
    {
        await OrdersTable.UpdateAsync(Deployment.Source, Table, count, Rows);
        return count;
    }

    /// <summary>Holds the batch with the source's newest row in the destination until the gate opens (call after the change).</summary>
    public Task<DestinationGate> CloseGateOnNewestRowAsync() => DestinationGate.CloseOnNewestRowAsync(Deployment.Source, Deployment.Destination, Table);

    public async Task<string?> WatermarkAsync() =>
        (string?)await OrdersTable.ScalarAsync(Deployment.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = $1", Job);

    /// <summary>Whether the Extractor's COPY of the source is running right now (for the record of a test, not for assertions).</summary>
    public async Task<bool> ExtractionUnderWayAsync() =>
        (bool)(await OrdersTable.ScalarAsync(Deployment.Source, """
            SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND query LIKE 'COPY (SELECT%')
            """))!;

    /// <summary>Batches of the run the Coordinator has recorded as loaded.</summary>
    public async Task<long> LoadedBatchesAsync(Guid runId) =>
        Convert.ToInt64(await OrdersTable.ScalarAsync(Deployment.Control, "SELECT count(*) FROM sync_run_batches WHERE run_id = $1", runId));

    public Task WaitForLoadedBatchesAsync(Guid runId, int batches) =>
        WaitUntilAsync(async () => await LoadedBatchesAsync(runId) >= batches, $"Run {runId} never loaded {batches} batches.");

    /// <summary>Batches of the run the Loader has committed to the destination (ahead of the Coordinator's count).</summary>
    public async Task<long> AppliedBatchesAsync(Guid runId) =>
        Convert.ToInt64(await OrdersTable.ScalarAsync(Deployment.Destination, "SELECT count(*) FROM sync.applied_batches WHERE run_id = $1", runId));

    public Task WaitForAppliedBatchesAsync(Guid runId, int batches) =>
        WaitUntilAsync(async () => await AppliedBatchesAsync(runId) >= batches, $"The Loader never applied {batches} batches of run {runId}.");

    private async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return;
            }

            await Task.Delay(20);
        }

        throw new TimeoutException($"{failure}\n{Deployment.Logs()}");
    }

    /// <summary>
    /// While a fault is under way: the watermark is where the run started, unless the run had
    /// completed (read after the watermark, so a completion in between cannot fool the check).
    /// </summary>
    public async Task AssertWatermarkHeldUnlessCompletedAsync(Guid runId, string? committed)
    {
        var watermark = await WatermarkAsync();
        if (watermark != committed)
        {
            var run = await Deployment.GetRunAsync(runId);
            Assert.True(run?.State == "Completed", $"The watermark moved to {watermark} while run {runId} was {run?.State}.");
        }
    }

    /// <summary>
    /// Waits for a run a fault hit. If it could not finish, the watermark must not have moved, and
    /// the next run must repair what it left: returns the run that completed.
    /// </summary>
    public async Task<RunResult> FinishOrRepairAsync(Guid runId, string? committed)
    {
        var run = await Deployment.WaitForRunAsync(runId, TimeSpan.FromMinutes(1));
        Output.WriteLine($"Run {runId}: {run.State} {run.FailureReason}, {run.LoadedBatches}/{run.ExpectedBatches} batches, {run.DurationMs} ms");
        if (run.State == "Completed")
        {
            return run;
        }

        Assert.Equal(committed, await WatermarkAsync());
        var repair = await Deployment.RunAsync(Job, TimeSpan.FromMinutes(1));
        Output.WriteLine($"Repair run {repair.RunId}: {repair.State} {repair.FailureReason}, {repair.DurationMs} ms");
        Assert.True(repair.State == "Completed", $"The repair run ended {repair.State}: {repair.FailureReason}\n{Deployment.Logs()}");
        return repair;
    }

    /// <summary>
    /// I1–I3 after a fault: destination equal to source, the completed run counted each changed row
    /// once, the watermark at the source's last row, one metrics row per finished run. Rows a
    /// faulted attempt had already written count as skipped, so only the sum is exact; but an
    /// update-only run inserts nothing, and a first load updates nothing.
    /// </summary>
    public async Task AssertEveryChangeArrivedOnceAsync(RunResult completed, int changedRows, bool firstLoad = false)
    {
        Assert.Equal(await OrdersTable.DigestAsync(Deployment.Source, Table), await OrdersTable.DigestAsync(Deployment.Destination, Table));

        Assert.Equal(changedRows, completed.Processed);
        Assert.Equal(0, firstLoad ? completed.Updated : completed.Inserted);
        Assert.Equal(changedRows, completed.Inserted + completed.Updated + completed.Skipped);

        await AssertWatermarkAtSourceMaxAsync();
        await AssertOneMetricsRowPerFinishedRunAsync(completed);
    }

    public async Task AssertWatermarkAtSourceMaxAsync() =>
        Assert.Equal(
            await OrdersTable.ScalarAsync(Deployment.Source, $"SELECT max(updated_at) FROM {Table}"),
            await OrdersTable.ScalarAsync(Deployment.Control, "SELECT last_sync FROM sync_watermarks WHERE key = $1", Job));

    public async Task AssertOneMetricsRowPerFinishedRunAsync(RunResult completed)
    {
        Assert.Equal(
            await OrdersTable.ScalarAsync(Deployment.Control, "SELECT count(*) FROM sync_runs WHERE current_state IN ('Completed', 'Failed')"),
            await OrdersTable.ScalarAsync(Deployment.Control, "SELECT count(*) FROM sync_metrics"));
        Assert.Equal(0L, await OrdersTable.ScalarAsync(Deployment.Control, """
            SELECT count(*) FROM sync_runs r
            WHERE current_state IN ('Completed', 'Failed') AND NOT EXISTS (SELECT 1 FROM sync_metrics m WHERE m.run_id = r.correlation_id)
            """));
        Assert.Equal(
            $"{completed.Processed}/{completed.Inserted}/{completed.Updated}/{completed.Skipped}",
            await OrdersTable.ScalarAsync(Deployment.Control, "SELECT concat_ws('/', processed, inserted, updated, skipped) FROM sync_metrics WHERE run_id = $1", completed.RunId));
    }

    /// <summary>A broker or database outage is survived in place: no service may have exited.</summary>
    public void AssertEveryServiceStillRuns()
    {
        foreach (var name in new[] { "Coordinator", "Extractor", "Transformer", "Loader" })
        {
            Assert.False(Deployment.Service(name).HasExited, $"The {name} exited ({Deployment.Service(name).ExitCode}).\n{Deployment.Logs()}");
        }
    }

    public ValueTask DisposeAsync() => _ownsDeployment ? Deployment.DisposeAsync() : ValueTask.CompletedTask;
}
