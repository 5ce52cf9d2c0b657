using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// Partitioned tables as destination and as source against real PostgreSQL: incremental loads and a
/// full refresh that deletes, with exact inserted and updated counts (issue 13, item 3: the merge
/// failed with 0A000, "cannot retrieve a system column in this context").
/// </summary>
public sealed class PartitionedTableTests : IAsyncLifetime
{
    private const int Rows = 500;

    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("pt_conn");
        _connections = _scratch.Catalog("db");
        _resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task Incremental_batches_load_into_a_partitioned_table_with_exact_counts()
    {
        await CreateSampleTableAsync("parted_incremental");
        var job = SampleJob("parted_incremental", ConflictStrategy.LatestWins);
        var destination = new PostgresDestination(_connections, _resilience);
        var run = Guid.NewGuid();
        var first = SampleBatch.Of(
            ["1", "2026-01-01T00:00:00+00:00", "1", "1", null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "2 first", null],
            ["3", "2026-01-01T00:00:00+00:00", "3", "3", null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "2 last", null],
            ["4", "2026-01-01T00:00:00+00:00", "4", "4", null]);
        var second = SampleBatch.Of(
            ["1", "2026-01-02T00:00:00+00:00", "1", "1 newer", null],
            ["2", "2025-12-01T00:00:00+00:00", "2", "2 older", null],
            ["3", "2026-01-01T00:00:00+00:00", "3", "3 same cursor", null],
            ["5", "2026-01-02T00:00:00+00:00", "5", "5", null]);

        var one = await destination.LoadAsync(new BatchToLoad(job, run, run, 1, first, Fence: 1), CancellationToken.None);
        var two = await destination.LoadAsync(new BatchToLoad(job, run, run, 2, second, Fence: 1), CancellationToken.None);

        Assert.Equal((5, 4, 0, 1), (one.Rows, one.Inserted, one.Updated, one.Skipped));
        Assert.Equal((4, 1, 1, 2), (two.Rows, two.Inserted, two.Updated, two.Skipped));
        Assert.Equal("1:1 newer|2:2 last|3:3|4:4|5:5", await _scratch.ScalarAsync("SELECT string_agg(id || ':' || note, '|' ORDER BY id) FROM parted_incremental"));
    }

    [Fact]
    public async Task A_full_refresh_from_a_partitioned_source_into_a_partitioned_destination_deletes_what_the_source_lost()
    {
        await _scratch.ExecuteAsync($"""
            CREATE TABLE src (id bigint, status text NOT NULL, amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (id)) PARTITION BY RANGE (id);
            CREATE TABLE src_low PARTITION OF src FOR VALUES FROM (MINVALUE) TO (251);
            CREATE TABLE src_high PARTITION OF src FOR VALUES FROM (251) TO (MAXVALUE);
            INSERT INTO src SELECT g, 'new', g, now() - interval '1 day' + g * interval '1 millisecond' FROM generate_series(1, {Rows}) g;
            CREATE TABLE dst (id bigint, status text NOT NULL, amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (id)) PARTITION BY HASH (id);
            CREATE TABLE dst_0 PARTITION OF dst FOR VALUES WITH (MODULUS 2, REMAINDER 0);
            CREATE TABLE dst_1 PARTITION OF dst FOR VALUES WITH (MODULUS 2, REMAINDER 1);
            """);
        var job = RefreshJob();
        Assert.Empty(await new JobSchemaCheck(_connections).CheckAsync(job, CancellationToken.None));

        var (_, firstLoads, firstSweep) = await RefreshAsync(job, fence: 1);
        await _scratch.ExecuteAsync("""
            DELETE FROM src WHERE id % 10 = 0;
            UPDATE src SET status = 'paid', amount = amount + 1, updated_at = clock_timestamp() WHERE id % 7 = 0;
            """);
        var (_, secondLoads, secondSweep) = await RefreshAsync(job, fence: 2);

        Assert.Equal((Rows, Rows, 0, 0), Totals(firstLoads));
        Assert.Equal(0, firstSweep.Deleted);
        // 71 multiples of 7 up to 500, 7 of them multiples of 70 (deleted): 64 updated, the rest unchanged.
        Assert.Equal((Rows - 50, 0, 64, Rows - 50 - 64), Totals(secondLoads));
        Assert.Equal(50, secondSweep.Deleted);
        Assert.Equal(await DigestAsync("src"), await DigestAsync("dst"));
    }

    [Fact]
    public async Task A_key_another_transaction_inserts_during_the_load_is_counted_as_updated_not_inserted()
    {
        await CreateSampleTableAsync("parted_race");
        var job = SampleJob("parted_race", ConflictStrategy.SourceWins);
        var destination = new PostgresDestination(_connections, _resilience);
        await using var other = new NpgsqlConnection(_scratch.ConnectionString);
        await other.OpenAsync();
        await using var transaction = await other.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand("INSERT INTO parted_race (id, note) VALUES (7, 'other')", other))
        {
            await insert.ExecuteNonQueryAsync();
        }

        // The load's merge meets the other transaction's uncommitted key and waits for it; the other
        // commits while it waits, so the row the load writes already exists when it writes it.
        var load = destination.LoadAsync(
            new BatchToLoad(job, Guid.NewGuid(), Guid.NewGuid(), 1, SampleBatch.Of(["7", "2026-01-01T00:00:00+00:00", "7", "mine", null]), Fence: 1), CancellationToken.None);
        await WaitUntilBlockedAsync(load);
        await transaction.CommitAsync();
        var result = await load;

        Assert.Equal((1, 0, 1, 0), (result.Rows, result.Inserted, result.Updated, result.Skipped));
        Assert.Equal("mine", await _scratch.ScalarAsync("SELECT note FROM parted_race WHERE id = 7"));
    }

    private async Task WaitUntilBlockedAsync(Task load)
    {
        while (!load.IsCompleted)
        {
            if ((long)(await _scratch.ScalarAsync("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"))! > 0)
            {
                return;
            }

            await Task.Delay(20);
        }

        await load;
        Assert.Fail("The load finished without waiting for the other transaction.");
    }

    private Task CreateSampleTableAsync(string table) =>
        _scratch.ExecuteAsync($"""
            CREATE TABLE {table} (id bigint, updated_at timestamptz, total numeric, note text, day date, PRIMARY KEY (id)) PARTITION BY HASH (id);
            CREATE TABLE {table}_0 PARTITION OF {table} FOR VALUES WITH (MODULUS 3, REMAINDER 0);
            CREATE TABLE {table}_1 PARTITION OF {table} FOR VALUES WITH (MODULUS 3, REMAINDER 1);
            CREATE TABLE {table}_2 PARTITION OF {table} FOR VALUES WITH (MODULUS 3, REMAINDER 2);
            """);

    private static JobSpec SampleJob(string table, ConflictStrategy conflict) => new(
        table,
        new SourceSpec(SourceKind.Postgres, "db", "public.src", "updated_at", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.Postgres, "db", $"public.{table}", ["id"], conflict),
        BatchSize: 1000,
        Schedule: null);

    private static JobSpec RefreshJob()
    {
        var result = JobFile.Parse("""
            name: parted-refresh
            mode: full_refresh
            batch_size: 100
            source:
              type: postgres
              connection: db
              table: public.src
              cursor: updated_at
              primary_key: [id]
            destination:
              type: postgres
              connection: db
              table: public.dst
              deletes: delete
            """, "parted-refresh.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }

    private async Task<(Guid Run, List<LoadResult> Loads, SweepResult Sweep)> RefreshAsync(JobSpec job, long fence)
    {
        var destination = new PostgresDestination(_connections, _resilience);
        var (runId, extractionId, seq) = (Guid.NewGuid(), Guid.NewGuid(), 0);
        var loads = new List<LoadResult>();
        await new PostgresSource(_connections, _resilience).ExtractAsync(job, after: null, async (batch, _, ct) =>
            loads.Add(await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, ++seq, batch, fence), ct)), CancellationToken.None);
        var sweep = await new PostgresDeleteSweep(_connections, _resilience).SweepAsync(job, runId, fence, CancellationToken.None);
        return (runId, loads, sweep);
    }

    private static (int Rows, int Inserted, int Updated, int Skipped) Totals(List<LoadResult> loads) =>
        (loads.Sum(l => l.Rows), loads.Sum(l => l.Inserted), loads.Sum(l => l.Updated), loads.Sum(l => l.Skipped));

    private async Task<string> DigestAsync(string table) =>
        (string)(await _scratch.ScalarAsync($"SELECT count(*) || ' ' || md5(string_agg(r::text, '|' ORDER BY r.id)) FROM (SELECT id, status, amount, updated_at FROM {table}) r"))!;
}
