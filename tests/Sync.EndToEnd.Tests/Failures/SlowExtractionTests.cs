using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// Extractions that last several run timeouts while they make progress: a source that yields its
/// batches slowly, and one slow to yield even its first row. Neither is a run without progress, so
/// both complete with the destination equal to the source (a slow extraction failed by the timeout
/// starts again from the old watermark on every run, for ever). The converse, a run whose Extractor
/// is gone, still times out: <see cref="StalledExtractionTests"/>. One deployment with a run timeout
/// of 10 s (with 5 s, a report delayed by a loaded machine failed the run: the timeout is for a lost
/// Extractor, not for a slow one), a job and table per test.
/// </summary>
public sealed class SlowExtractionTests(SlowExtractionTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<SlowExtractionTests.Fixture>
{
    private static readonly TimeSpan RunTimeout = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task A_source_yielding_batches_slowly_for_several_run_timeouts_loads_every_row()
    {
        await using var sync = fixture.Sync(Fixture.TrickleJob, output);

        var run = await sync.Deployment.RunAsync(sync.Job, TimeSpan.FromMinutes(3));

        Assert.True(run.State == "Completed", $"{run.State}: {run.FailureReason}\n{sync.Deployment.Logs()}");
        Assert.Equal(sync.Rows, run.Inserted);
        // The premise: the batches were loaded one after another over more than two run timeouts (the
        // source sleeps before every 100th row), not all at once after a slow start.
        var loading = Convert.ToDouble(await OrdersTable.ScalarAsync(
            sync.Deployment.Control, "SELECT extract(epoch FROM max(loaded_at) - min(loaded_at)) FROM sync_run_batches WHERE run_id = $1", run.RunId));
        output.WriteLine($"Batches loaded over {loading:0.0} s, the run took {run.DurationMs} ms, the run timeout is {RunTimeout}");
        Assert.True(loading > 2 * RunTimeout.TotalSeconds, $"The batches were loaded within {loading} s: the source did not trickle.");
        Assert.Equal(await OrdersTable.DigestAsync(sync.Deployment.Source, sync.Table), await OrdersTable.DigestAsync(sync.Deployment.Destination, sync.Table));
        await sync.AssertWatermarkAtSourceMaxAsync();
    }

    [Fact]
    public async Task An_extraction_waiting_several_run_timeouts_for_its_first_row_loads_every_row()
    {
        await using var sync = fixture.Sync(Fixture.LateStartJob, output);
        await using var gate = await SourceGate.CloseAsync(sync.Deployment.Source);

        var runId = await sync.Deployment.StartRunAsync(sync.Job);
        await gate.WaitUntilReachedAsync(sync.Deployment.Logs);
        // Its query waits before the first row until the run has lived three run timeouts on its
        // Extractor's reports alone: no batch has loaded.
        await WaitUntilProgressedForAsync(sync, runId, 3 * RunTimeout);
        Assert.Equal(0L, await sync.LoadedBatchesAsync(runId));
        await gate.OpenAsync();

        var run = await sync.Deployment.WaitForRunAsync(runId, TimeSpan.FromMinutes(2));
        Assert.True(run.State == "Completed", $"{run.State}: {run.FailureReason}\n{sync.Deployment.Logs()}");
        Assert.Equal(sync.Rows, run.Inserted);
        Assert.Equal(await OrdersTable.DigestAsync(sync.Deployment.Source, sync.Table), await OrdersTable.DigestAsync(sync.Deployment.Destination, sync.Table));
        await sync.AssertWatermarkAtSourceMaxAsync();
    }

    /// <summary>Waits until the run's last recorded progress is <paramref name="span"/> after its start; fails at once if the run ends first.</summary>
    private static async Task WaitUntilProgressedForAsync(OrdersSync sync, Guid runId, TimeSpan span)
    {
        var deadline = DateTime.UtcNow + span + TimeSpan.FromMinutes(1);
        while (DateTime.UtcNow < deadline)
        {
            var runs = await ConnectorJobsFixture.QueryAsync(
                sync.Deployment.Control,
                "SELECT current_state, failure_reason, extract(epoch FROM updated_at - started_at)::float8 FROM sync_runs WHERE correlation_id = $1",
                r => (State: r.GetString(0), Reason: r.IsDBNull(1) ? null : r.GetString(1), Progressed: r.GetDouble(2)),
                runId);
            if (runs is [var run])
            {
                Assert.True(run.State == "Extracting", $"Run {runId} ended {run.State} while its extraction waited for its first row: {run.Reason}");
                if (run.Progressed >= span.TotalSeconds)
                {
                    sync.Output.WriteLine($"Run {runId} recorded progress {run.Progressed:0.0} s after its start");
                    return;
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"Run {runId} recorded no progress {span} after its start.\n{sync.Deployment.Logs()}");
    }

    public sealed class Fixture() : OrdersJobsFixture("slowx")
    {
        public const string TrickleJob = "trickle";
        public const string LateStartJob = "late-start";

        protected override async Task PrepareAsync()
        {
            // 30 batches, a source that sleeps 1 s before each: about three run timeouts.
            var trickle = await AddJobAsync(TrickleJob, rows: 3_000, batchSize: 100);
            Deployment.WriteJob($"{TrickleJob}.yml", QueryJob(TrickleJob, trickle, $"SELECT * FROM {trickle} WHERE test_trickle(id)"));
            var lateStart = await AddJobAsync(LateStartJob, rows: 300, batchSize: 100);
            Deployment.WriteJob($"{LateStartJob}.yml", QueryJob(LateStartJob, lateStart, $"SELECT * FROM {lateStart} WHERE test_source_gate(true)"));

            // Rows stream in cursor order from the index, each past its sleep as it is read: a sort
            // would read (and sleep through) the whole query before its first row.
            await OrdersTable.ExecuteAsync(Deployment.Source, $"""
                CREATE FUNCTION test_trickle(id bigint) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
                BEGIN
                    IF id % 100 = 0 THEN PERFORM pg_sleep(1); END IF;
                    RETURN true;
                END $$;
                CREATE INDEX ON {trickle} (updated_at, id);
                ALTER DATABASE "{Deployment.SourceDatabase}" SET enable_sort = off;
                """);
            await SourceGate.CreateFunctionAsync(Deployment.Source);
            Deployment.SetEnvironment("Coordinator__RunTimeout", RunTimeout.ToString());
            Deployment.SetEnvironment("Coordinator__RunTimeoutSweepSeconds", "1");
        }

        /// <summary>The job of an orders table (as <see cref="AddJobAsync"/> made it) read through <paramref name="query"/>.</summary>
        internal static string QueryJob(string job, string table, string query) => $"""
            name: {job}
            batch_size: 100
            source:
              type: postgres
              connection: source
              query: "{query}"
              cursor: updated_at
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.{table}
              key: [id]
            """;
    }
}
