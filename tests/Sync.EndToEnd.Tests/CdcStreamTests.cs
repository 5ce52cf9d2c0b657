using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// mode: cdc through the four services: a continuous job copies its table, then streams the
/// inserts, updates and deletes made while it runs; a kill -9 of the Extractor or the Loader
/// mid-stream loses nothing and leaves the destination equal to the source once it caught up; a job
/// whose file is removed loses its slot, publication and watermark when the Coordinator restarts.
/// </summary>
public sealed class CdcStreamTests(CdcStreamFixture fixture, ITestOutputHelper output) : IClassFixture<CdcStreamFixture>
{
    private SyncDeployment Sync => fixture.Deployment;

    [Fact]
    public async Task Inserts_updates_and_deletes_made_while_the_job_streams_reach_the_destination()
    {
        const string table = "cdc_stream";
        await fixture.WaitForEqualAsync(table);

        await OrdersTable.SeedAsync(Sync.Source, table, first: 10_001, count: 50);
        await OrdersTable.UpdateAsync(Sync.Source, table, count: 100, total: 5_000);
        await OrdersTable.ExecuteAsync(Sync.Source, $"DELETE FROM {table} WHERE id % 97 = 0");
        await OrdersTable.ExecuteAsync(Sync.Source, $"BEGIN; INSERT INTO {table} SELECT id + 100000, customer_id, status, amount, note, created_at, updated_at FROM {table} WHERE id < 20; DELETE FROM {table} WHERE id < 10; COMMIT;");

        await fixture.WaitForEqualAsync(table);
        Assert.Equal(0L, Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Destination, $"SELECT count(*) FROM {table} WHERE id % 97 = 0 AND id <= 10050")));

        // Counted as deletes, apart from updates and skips: 51 rows (ids 97…4947) and 9 (ids 1…9), once
        // each, in the metrics rows of the runs that streamed them.
        var deleted = "SELECT coalesce(sum(deleted), 0) FROM sync_metrics WHERE job_name = $1";
        await fixture.WaitUntilAsync(async () => Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Control, deleted, fixture.JobName(table))) >= 60, table);
        Assert.Equal(60L, Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Control, deleted, fixture.JobName(table))));
    }

    [Theory]
    [InlineData("Extractor", "cdc_kill_extractor")]
    [InlineData("Loader", "cdc_kill_loader")]
    public async Task A_service_killed_mid_stream_restarts_and_the_destination_equals_the_source(string service, string table)
    {
        await fixture.WaitForEqualAsync(table);
        using var stop = new CancellationTokenSource();
        var writer = fixture.WriteAsync(table, stop.Token);
        long transactions;
        try
        {
            // Some changes have been streamed and loaded when the service dies, and more after it is back.
            var streamed = $"SELECT count(*) FROM {table} WHERE status = 'streamed'";
            await fixture.WaitUntilAsync(async () => Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Destination, streamed)) > 100, table);

            await Sync.KillServiceAsync(service);
            var atKill = Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Source, streamed));
            await Task.Delay(500);
            await Sync.StartServiceAsync(service);
            await fixture.WaitUntilAsync(async () => Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Destination, streamed)) > atKill + 100, table);
        }
        finally
        {
            // Also when the test fails: a writer left running would keep the other jobs' slots decoding its WAL.
            await stop.CancelAsync();
            transactions = await writer;
        }

        await fixture.WaitForEqualAsync(table);
        output.WriteLine($"{transactions} source transactions while the {service} was killed and restarted");
    }

    [Fact]
    public async Task A_removed_cdc_job_loses_its_slot_publication_and_watermark_when_the_Coordinator_restarts_and_copies_afresh_when_added_again()
    {
        const string table = "cdc_removed";
        var job = fixture.JobName(table);
        // Every job has made its slot by then.
        foreach (var copied in new[] { table, "cdc_stream", "cdc_kill_extractor", "cdc_kill_loader" })
        {
            await fixture.WaitForEqualAsync(copied);
        }

        var slot = $"SELECT count(*) FROM pg_replication_slots WHERE slot_name = 'sync_{job}'";
        var publication = $"SELECT count(*) FROM pg_publication WHERE pubname = 'sync_{job}'";
        var record = "SELECT count(*) FROM sync_cdc_slots WHERE job = $1 AND connection = 'source'";
        var watermark = "SELECT count(*) FROM sync_watermarks WHERE key = $1";
        Assert.Equal(1L, Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Source, slot)));
        Assert.Equal(1L, Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Control, record, job)));

        var file = Path.Combine(Sync.JobsDirectory, $"{table}.yml");
        var definition = await File.ReadAllTextAsync(file);
        File.Delete(file);
        await Sync.RestartCoordinatorAsync();

        // The clean-up drops the slot, then the publication (a statement later), then the record with the watermark.
        await fixture.WaitUntilAsync(async () => Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Source, slot)) == 0, table);
        await fixture.WaitUntilAsync(async () => Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Source, publication)) == 0, table);
        await fixture.WaitUntilAsync(async () => Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Control, record, job)) == 0, table);
        Assert.Equal(0L, Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Control, watermark, job)));
        // No run of the removed job is active any more, so nothing can bring them back.
        await fixture.WaitUntilAsync(async () => Convert.ToInt64(await OrdersTable.ScalarAsync(
            Sync.Control, "SELECT count(*) FROM sync_runs WHERE job_name = $1 AND current_state IN ('Extracting', 'Loading', 'Sweeping')", job)) == 0, table);
        Assert.Equal(0L, Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Control, watermark, job)));
        Assert.Equal(0L, Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Source, slot)));
        // The jobs still defined keep theirs.
        Assert.Equal(3L, Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Source, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()")));

        // Changes while the job is gone, and an emptied destination: only a fresh copy makes the two equal again.
        await OrdersTable.SeedAsync(Sync.Source, table, first: 20_001, count: 25);
        await OrdersTable.ExecuteAsync(Sync.Source, $"DELETE FROM {table} WHERE id % 89 = 0");
        await OrdersTable.ExecuteAsync(Sync.Destination, $"TRUNCATE {table}");
        await File.WriteAllTextAsync(file, definition);
        await Sync.RestartCoordinatorAsync();

        await fixture.WaitForEqualAsync(table);
        Assert.Equal(1L, Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Source, slot)));
        Assert.Equal(1L, Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Control, record, job)));
        await fixture.WaitUntilAsync(async () => Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Control, watermark, job)) == 1, table);
    }
}

public sealed class CdcStreamFixture : IAsyncLifetime
{
    private const int Rows = 5_000;
    private readonly string _suffix = Guid.NewGuid().ToString("N")[..6];

    public SyncDeployment Deployment { get; private set; } = null!;

    public string JobName(string table) => $"{table}_{_suffix}";

    public async Task InitializeAsync()
    {
        // Short runs, so a test sees several watermark commits and run hand-overs.
        Deployment = await CdcDeployment.CreateAsync("cdc");
        foreach (var table in new[] { "cdc_stream", "cdc_kill_extractor", "cdc_kill_loader", "cdc_removed" })
        {
            await OrdersTable.CreateAsync(Deployment.Source, table);
            await OrdersTable.CreateAsync(Deployment.Destination, table);
            await OrdersTable.SeedAsync(Deployment.Source, table, first: 1, count: Rows);
            Deployment.WriteCdcJob($"{table}.yml", JobName(table), table, batchSize: 500);
        }

        await Deployment.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await using (Deployment)
        {
            await Deployment.ReleaseCdcSlotsAsync();
        }
    }

    /// <summary>Source transactions of an update, an insert and a delete each, until stopped; returns how many committed.</summary>
    public async Task<long> WriteAsync(string table, CancellationToken stop)
    {
        await Task.Yield();
        var random = new Random(table.Length);
        long transactions = 0;
        var next = 1_000_000L;
        while (!stop.IsCancellationRequested)
        {
            var id = random.Next(1, Rows);
            await OrdersTable.ExecuteAsync(Deployment.Source, $"""
                WITH u AS (UPDATE {table} SET status = 'streamed', amount = amount + 1, updated_at = clock_timestamp() WHERE id = $1),
                     d AS (DELETE FROM {table} WHERE id = $1 + 1)
                INSERT INTO {table} (id, customer_id, status, amount, note, created_at, updated_at)
                VALUES ($2, 1, 'streamed', 1, 'new', now(), clock_timestamp())
                """, (long)id, next++);
            transactions++;
            // A steady stream rather than as fast as one connection goes, so a fast machine cannot outrun the pipeline.
            try
            {
                await Task.Delay(5, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return transactions;
    }

    public Task WaitForEqualAsync(string table) => Deployment.WaitForEqualAsync(table, table, order: "t.id");

    public Task WaitUntilAsync(Func<Task<bool>> condition, string table) => Deployment.WaitUntilAsync(condition, table);
}
