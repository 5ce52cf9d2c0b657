using System.Text.Json;
using MassTransit.Testing;
using Sync.Contracts;
using Sync.Coordinator.Runs;

namespace Sync.Coordinator.Tests.Runs;

/// <summary>
/// The run saga's transitions, message by message, with MassTransit's test harness and a real
/// control database (<see cref="RunSagaHarness"/>): the watermark moves only when every batch of the
/// accepted extraction is loaded (I3), a failed run leaves it where it was, and a finished run's
/// figures are final whatever arrives late or twice.
/// </summary>
public sealed class SyncRunStateMachineTests : IAsyncLifetime
{
    private RunSagaHarness _saga = null!;

    public async Task InitializeAsync() => _saga = await RunSagaHarness.StartAsync();

    public async Task DisposeAsync() => await _saga.DisposeAsync();

    [Fact]
    public async Task A_run_begins_extracts_loads_every_batch_and_completes_with_the_watermark_moved()
    {
        var runId = Guid.NewGuid();
        var extractionId = await _saga.StartAndExtractAsync(runId, batches: 2, high: "2026-01-02 03:04:05+00");
        Assert.Equal(RunStates.Loading, await _saga.WaitForStateAsync(runId, RunStates.Loading));

        await _saga.PublishAsync(RunSagaHarness.Loaded(runId, extractionId, 1));
        Assert.Equal(1, (await _saga.WaitForRunAsync(runId, run => run.LoadedBatches == 1))?.LoadedBatches);
        Assert.Null(await _saga.WatermarkAsync());
        await _saga.PublishAsync(RunSagaHarness.Loaded(runId, extractionId, 2));

        Assert.Equal(RunStates.Completed, await _saga.WaitForStateAsync(runId, RunStates.Completed));
        Assert.Equal(["2026-01-02 03:04:05+00", "1"], Deserialize(await _saga.WatermarkAsync())?.Values);
        var metrics = await _saga.MetricsAsync(runId);
        Assert.NotNull(metrics);
        Assert.Equal((20L, 14L, 6L), (metrics.Processed, metrics.Inserted, metrics.Updated));
        Assert.True(await _saga.Harness.Published.Any<SyncRunCompleted>(x => x.Context.Message.RunId == runId && x.Context.Message.Processed == 20));
    }

    [Fact]
    public async Task A_job_whose_cursor_or_destination_changed_since_its_watermark_is_refused_with_the_fix_and_keeps_the_watermark()
    {
        await _saga.CompleteRunAsync(Guid.NewGuid(), high: "2026-01-01 00:00:00+00");
        var watermark = await _saga.WatermarkAsync();

        // The cursor edited to another column: the watermark is a position in updated_at order.
        var change = await _saga.RewriteJobAsync(SampleJobs.Orders(RunSagaHarness.JobName).Replace("cursor: updated_at", "cursor: created_at", StringComparison.Ordinal));
        Assert.Equal([RunSagaHarness.JobName], change.Changed);
        var refused = Guid.NewGuid();
        await _saga.PublishAsync(new StartSyncRun(refused, RunSagaHarness.JobName, "test", DateTimeOffset.UtcNow));
        var run = await _saga.WaitForRunAsync(refused, r => r.CurrentState == RunStates.Rejected);
        Assert.Equal(RunStates.Rejected, run?.CurrentState);
        Assert.Equal(
            "Job \"orders\" changed since its watermark was committed: the order it was read in was cursor updated_at, key id, is now cursor created_at, key id. " +
            "Reading on from that watermark could skip rows, so the run is refused and the watermark kept. " +
            "To copy again from the start: syncctl reset orders (DELETE /api/jobs/orders/watermark), then run it; or restore the job file.",
            run?.FailureReason);
        Assert.False(await _saga.Harness.Published.Any<ExtractBatches>(x => x.Context.Message.RunId == refused), "a refused run asked for an extraction");

        // Another destination table never had the earlier rows.
        await _saga.RewriteJobAsync(SampleJobs.Orders(RunSagaHarness.JobName).Replace("table: public.orders\n  key", "table: public.orders_copy\n  key", StringComparison.Ordinal));
        var moved = Guid.NewGuid();
        await _saga.PublishAsync(new StartSyncRun(moved, RunSagaHarness.JobName, "test", DateTimeOffset.UtcNow));
        run = await _saga.WaitForRunAsync(moved, r => r.CurrentState == RunStates.Rejected);
        Assert.Contains("the destination was postgres destination: public.orders, is now postgres destination: public.orders_copy", run?.FailureReason, StringComparison.Ordinal);
        Assert.Equal(watermark, await _saga.WatermarkAsync());

        // What does not move the position may change: a batch size; and the file restored runs again.
        await _saga.RewriteJobAsync(SampleJobs.Orders(RunSagaHarness.JobName, batchSize: 500));
        await _saga.CompleteRunAsync(Guid.NewGuid(), high: "2026-01-02 00:00:00+00");
        Assert.Equal(["2026-01-02 00:00:00+00", "1"], Deserialize(await _saga.WatermarkAsync())?.Values);
    }

    [Fact]
    public async Task A_run_whose_batch_fails_ends_Failed_with_the_watermark_unchanged()
    {
        await _saga.CompleteRunAsync(Guid.NewGuid(), high: "2026-01-01 00:00:00+00");
        var committed = await _saga.WatermarkAsync();

        var second = Guid.NewGuid();
        var secondExtraction = await _saga.StartAndExtractAsync(second, batches: 2, high: "2026-02-01 00:00:00+00");
        await _saga.PublishAsync(RunSagaHarness.Loaded(second, secondExtraction, 1));
        await _saga.PublishAsync(new BatchFailed(second, RunSagaHarness.JobName, 2, "load", "permission denied for table orders"));

        Assert.Equal(RunStates.Failed, await _saga.WaitForStateAsync(second, RunStates.Failed));
        Assert.Equal(committed, await _saga.WatermarkAsync());
        Assert.Equal(["2026-01-01 00:00:00+00", "1"], Deserialize(committed)?.Values);
        var run = await _saga.RunAsync(second);
        Assert.Contains("permission denied", run!.FailureReason, StringComparison.Ordinal);
        Assert.True(await _saga.Harness.Published.Any<SyncRunFailed>(x => x.Context.Message.RunId == second));
        Assert.False(await _saga.Harness.Published.Any<SyncRunCompleted>(x => x.Context.Message.RunId == second));
    }

    [Fact]
    public async Task Late_and_repeated_messages_do_not_move_a_finished_run()
    {
        var runId = Guid.NewGuid();
        var extractionId = await _saga.CompleteRunAsync(runId, high: "2026-03-01 00:00:00+00");
        var before = await _saga.RunAsync(runId);
        var watermark = await _saga.WatermarkAsync();

        // The batch delivered again, a second completion reaching further, a late failure, the start repeated.
        await _saga.PublishAsync(RunSagaHarness.Loaded(runId, extractionId, 1));
        await _saga.PublishAsync(new ExtractionCompleted(runId, RunSagaHarness.JobName, Guid.NewGuid(), 3, 30, RunSagaHarness.Position("2026-09-09 00:00:00+00")));
        await _saga.PublishAsync(new BatchFailed(runId, RunSagaHarness.JobName, 1, "load", "a late failure"));
        await _saga.PublishAsync(new StartSyncRun(runId, RunSagaHarness.JobName, "test", DateTimeOffset.UtcNow));
        Assert.True(await _saga.Harness.Consumed.Any<BatchFailed>(x => x.Context.Message.RunId == runId));
        Assert.True(await _saga.Harness.Consumed.Any<StartSyncRun>(x => x.Context.Message.RunId == runId && x.Context.Message.RequestedAt > before!.RequestedAt));
        await _saga.Harness.InactivityTask;

        var after = await _saga.RunAsync(runId);
        Assert.Equal(RunStates.Completed, after!.CurrentState);
        Assert.Equal(
            (before!.LoadedBatches, before.ExpectedBatches, before.Processed, before.HighCursor, before.FinishedAt, before.FailureReason),
            (after.LoadedBatches, after.ExpectedBatches, after.Processed, after.HighCursor, after.FinishedAt, after.FailureReason));
        Assert.Equal(watermark, await _saga.WatermarkAsync());
        Assert.Single(_saga.Harness.Published.Select<SyncRunCompleted>(x => x.Context.Message.RunId == runId));
        Assert.False(await _saga.Harness.Published.Any<SyncRunFailed>(x => x.Context.Message.RunId == runId));
    }

    private static CursorPosition? Deserialize(string? json) =>
        json is null ? null : JsonSerializer.Deserialize<CursorPosition>(json);
}
