using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// I4: a bad record never blocks good ones. Poison rows of three kinds (a failed cast in the
/// Transformer, a value too long and a CHECK violation in the destination) among good ones.
/// </summary>
public sealed class PoisonRecordTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Poison_records_become_dead_letters_and_load_once_when_replayed_after_the_fix()
    {
        await using var sync = await PoisonItems.CreateAsync("poison");
        await sync.StartAsync();

        var run = await sync.RunAsync(PoisonItems.Job);

        Assert.True(run.State == "Completed", $"{run.State}: {run.FailureReason}\n{sync.Logs()}");
        Assert.Equal(PoisonItems.Rows, run.Processed);
        Assert.Equal(PoisonItems.AllBad.Length, run.Errors);
        Assert.Equal(PoisonItems.Rows - PoisonItems.AllBad.Length, run.Inserted);
        Assert.Equal(PoisonItems.Rows - PoisonItems.AllBad.Length, await OrdersTable.CountAsync(sync.Destination, PoisonItems.Table));
        Assert.Equal(await PoisonItems.DigestAsync(sync.Source, PoisonItems.AllBad), await PoisonItems.DigestAsync(sync.Destination));
        Assert.Equal(
            $"{PoisonItems.Rows}/{PoisonItems.AllBad.Length}",
            await OrdersTable.ScalarAsync(sync.Control, "SELECT concat_ws('/', processed, errors) FROM sync_metrics WHERE run_id = $1", run.RunId));
        var watermark = await WatermarkAsync(sync);
        Assert.Equal(await OrdersTable.ScalarAsync(sync.Source, "SELECT max(updated_at) FROM items"), await LastSyncAsync(sync));

        var letters = await PoisonItems.DeadLettersAsync(sync);
        Assert.Equal(PoisonItems.AllBad.Order(), letters.Select(l => l.RecordId).Order());
        Assert.All(letters, l => Assert.Equal(("record", "pending", 1, run.RunId), (l.Kind, l.Status, l.Attempts, l.RunId)));
        AssertReasons(letters);

        // Nothing fixed yet: every replayed record fails again and stays pending, one attempt more.
        var again = await WaitForReplayAsync(sync);
        Assert.Equal(("Completed", PoisonItems.AllBad.Length, 0L), (again.State, (int)again.Errors, again.Inserted));
        letters = await PoisonItems.DeadLettersAsync(sync);
        Assert.All(letters, l => Assert.Equal(("pending", 2), (l.Status, l.Attempts)));
        Assert.Equal(PoisonItems.AllBad.Length, letters.Count);

        // The fix: the destination takes long labels and negative quantities, and the job reads code as text.
        await OrdersTable.ExecuteAsync(sync.Destination, """
            ALTER TABLE items ALTER COLUMN label TYPE text, ALTER COLUMN code TYPE text USING code::text, DROP CONSTRAINT qty_not_negative;
            """);
        sync.WriteJob("items.yml", PoisonItems.JobYaml(cast: false));
        await sync.RestartCoordinatorAsync();

        var replay = await WaitForReplayAsync(sync);
        output.WriteLine($"Replay run {replay.RunId}: {replay.State}, {replay.Inserted} inserted, {replay.Errors} errors, {replay.DurationMs} ms");
        Assert.Equal(("Completed", PoisonItems.AllBad.Length, 0L), (replay.State, (int)replay.Inserted, replay.Errors));
        Assert.Equal(await PoisonItems.DigestAsync(sync.Source), await PoisonItems.DigestAsync(sync.Destination));
        Assert.Equal(PoisonItems.Rows, await OrdersTable.CountAsync(sync.Destination, PoisonItems.Table));
        Assert.Equal(
            PoisonItems.AllBad.Length,
            await PoisonItems.ScalarLongAsync(sync.Destination, "SELECT count(*) FROM sync.applied_batches WHERE run_id = $1", replay.RunId));
        letters = await PoisonItems.DeadLettersAsync(sync);
        Assert.All(letters, l => Assert.Equal(("replayed", replay.RunId), (l.Status, l.ReplayRunId)));
        Assert.Equal(watermark, await WatermarkAsync(sync));

        // A second replay finds nothing pending and starts nothing.
        Assert.Null(await PoisonItems.ReplayAsync(sync));
        Assert.Equal(PoisonItems.Rows, await OrdersTable.CountAsync(sync.Destination, PoisonItems.Table));
        Assert.Equal(string.Empty, await BrokerQueues.DeadLetteredAsync(sync));
    }

    [Fact]
    public async Task A_replay_loads_the_current_source_row_and_does_not_bring_back_a_deleted_one()
    {
        await using var sync = await PoisonItems.CreateAsync("poisonnow");
        await sync.StartAsync();
        var run = await sync.RunAsync(PoisonItems.Job);
        Assert.True(run.State == "Completed", $"{run.State}: {run.FailureReason}\n{sync.Logs()}");
        Assert.Equal(PoisonItems.AllBad.Length, (await PoisonItems.DeadLettersAsync(sync)).Count);

        // After the records were set aside, the source changes: a too-long label is shortened, a bad
        // code is fixed by hand, and a row that broke the CHECK is deleted. No run reads these
        // changes before the replay (the job has no schedule), so only the replay can load them.
        var changed = PoisonItems.TooLong[0];
        var fixedCode = PoisonItems.BadCast[0];
        var deleted = PoisonItems.BreaksCheck[0];
        await OrdersTable.ExecuteAsync(sync.Source, $"""
            UPDATE items SET label = 'changed', updated_at = now() WHERE id = {changed};
            UPDATE items SET code = '4242', updated_at = now() WHERE id = {fixedCode};
            DELETE FROM items WHERE id = {deleted};
            """);
        await OrdersTable.ExecuteAsync(sync.Destination, """
            ALTER TABLE items ALTER COLUMN label TYPE text, ALTER COLUMN code TYPE text USING code::text, DROP CONSTRAINT qty_not_negative;
            """);
        sync.WriteJob("items.yml", PoisonItems.JobYaml(cast: false));
        await sync.RestartCoordinatorAsync();

        var replay = await WaitForReplayAsync(sync);

        Assert.Equal(("Completed", PoisonItems.AllBad.Length - 1, 0L), (replay.State, (int)replay.Inserted, replay.Errors));
        Assert.Equal("changed", await OrdersTable.ScalarAsync(sync.Destination, $"SELECT label FROM items WHERE id = {changed}"));
        Assert.Equal("4242", await OrdersTable.ScalarAsync(sync.Destination, $"SELECT code FROM items WHERE id = {fixedCode}"));
        Assert.Equal(0L, await PoisonItems.ScalarLongAsync(sync.Destination, $"SELECT count(*) FROM items WHERE id = {deleted}"));
        Assert.Equal(await PoisonItems.DigestAsync(sync.Source), await PoisonItems.DigestAsync(sync.Destination));
        Assert.All(await PoisonItems.DeadLettersAsync(sync), l => Assert.Equal(("replayed", replay.RunId), (l.Status, l.ReplayRunId)));
    }

    [Fact]
    public async Task Load_batch_with_rejects_delivered_again_records_its_dead_letters_once()
    {
        await using var sync = await PoisonItems.CreateAsync("poisondup");
        // The clean last batch waits in the destination on a lock this test holds, so the run is
        // still Loading when the copies of the batches with rejects are answered, however slow the machine.
        await OrdersTable.ExecuteAsync(sync.Destination, """
            CREATE FUNCTION held() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared(4242); RETURN NEW; END $$;
            CREATE TRIGGER held BEFORE INSERT ON items FOR EACH ROW WHEN (NEW.id = 1100) EXECUTE FUNCTION held();
            """);
        await using var gate = new Npgsql.NpgsqlConnection(sync.Destination);
        await gate.OpenAsync();
        await using (var hold = new Npgsql.NpgsqlCommand("SELECT pg_advisory_lock(4242)", gate))
        {
            await hold.ExecuteNonQueryAsync();
        }

        await sync.StartAsync();
        await using var probe = await BusProbe.StartAsync(sync);

        var runId = await sync.StartRunAsync(PoisonItems.Job);
        await BusProbe.WaitUntilAsync(
            () => probe.LoadBatches(runId).Count(m => m.Message.BatchSeq < 6) == 5,
            () => $"The probe saw {probe.LoadBatches(runId).Count} LoadBatch.\n{sync.Logs()}");
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await AppliedWithRejectsAsync(sync, runId) < 5)
        {
            Assert.True(DateTime.UtcNow < deadline, "The Loader did not apply the five batches with rejects.");
            await Task.Delay(50);
        }

        foreach (var copy in probe.LoadBatches(runId).Where(m => m.Message.BatchSeq < 6))
        {
            await probe.PublishAgainAsync(copy);
        }

        // Let the copies be answered before the last batch is let go.
        await BusProbe.WaitUntilAsync(
            () => probe.BatchesLoaded(runId).Count >= 10,
            () => $"The probe saw {probe.BatchesLoaded(runId).Count} BatchLoaded of 5 + 5.");
        var stillLoading = (await sync.GetRunAsync(runId))!.State;
        await using (var release = new Npgsql.NpgsqlCommand("SELECT pg_advisory_unlock(4242)", gate))
        {
            await release.ExecuteNonQueryAsync();
        }

        var run = await sync.WaitForRunAsync(runId);
        await BrokerQueues.WaitUntilDrainedAsync(sync);
        output.WriteLine($"Copies published while the run was {stillLoading}; it ended {run.State}");

        Assert.Equal("Loading", stillLoading);
        Assert.Equal(("Completed", PoisonItems.AllBad.Length), (run.State, (int)run.Errors));
        var letters = await PoisonItems.DeadLettersAsync(sync);
        Assert.Equal(PoisonItems.AllBad.Order(), letters.Select(l => l.RecordId).Order());
        Assert.Equal(PoisonItems.AllBad.Length, await PoisonItems.ScalarLongAsync(sync.Control, "SELECT count(*) FROM dead_letters"));
        Assert.Equal(6L, await PoisonItems.ScalarLongAsync(sync.Destination, "SELECT count(*) FROM sync.applied_batches WHERE run_id = $1", runId));
        Assert.Equal(
            PoisonItems.AllBad.Length,
            await PoisonItems.ScalarLongAsync(sync.Control, "SELECT errors FROM sync_metrics WHERE run_id = $1", runId));

        // The Loader answered each copy with the first application's result, rejects included.
        await BusProbe.WaitUntilAsync(
            () => probe.BatchesLoaded(runId).Count >= 11,
            () => $"The probe saw {probe.BatchesLoaded(runId).Count} BatchLoaded of 6 + 5.");
        Assert.All(
            probe.BatchesLoaded(runId).GroupBy(m => m.Message.BatchSeq),
            reports => Assert.Single(reports
                .Select(m => $"{m.Message.Rows}/{m.Message.Failed}/{string.Join(",", (m.Message.Rejected ?? []).Select(r => $"{r.Stage}{r.RowIndex}:{r.Error}"))}")
                .Distinct()));
    }

    private static void AssertReasons(IEnumerable<DeadLetterResult> letters)
    {
        foreach (var letter in letters)
        {
            var (stage, reason) = letter.RecordId switch
            {
                var id when PoisonItems.BadCast.Contains(id) => ("transform", "integer"),
                var id when PoisonItems.TooLong.Contains(id) => ("load", "22001"),
                _ => ("load", "23514"),
            };
            Assert.Equal(stage, letter.Stage);
            Assert.Contains(reason, letter.Error, StringComparison.Ordinal);
        }
    }

    // The Loader creates sync.applied_batches with its first batch.
    private static async Task<long> AppliedWithRejectsAsync(SyncDeployment sync, Guid runId)
    {
        try
        {
            return await PoisonItems.ScalarLongAsync(sync.Destination, "SELECT count(*) FROM sync.applied_batches WHERE run_id = $1 AND batch_seq < 6", runId);
        }
        catch (Npgsql.PostgresException exception) when (exception.SqlState == Npgsql.PostgresErrorCodes.UndefinedTable)
        {
            return 0;
        }
    }

    private static async Task<RunResult> WaitForReplayAsync(SyncDeployment sync)
    {
        var runId = await PoisonItems.ReplayAsync(sync);
        Assert.NotNull(runId);
        var run = await sync.WaitForRunAsync(runId.Value);
        Assert.True(run.State == "Completed", $"{run.State}: {run.FailureReason}\n{sync.Logs()}");
        return run;
    }

    private static async Task<string?> WatermarkAsync(SyncDeployment sync) =>
        (string?)await OrdersTable.ScalarAsync(sync.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = $1", PoisonItems.Job);

    private static Task<object?> LastSyncAsync(SyncDeployment sync) =>
        OrdersTable.ScalarAsync(sync.Control, "SELECT last_sync FROM sync_watermarks WHERE key = $1", PoisonItems.Job);
}
