using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// A run's fence against real PostgreSQL: the batches of one run load side by side, so one batch held
/// up in the destination (a lock, a slow trigger) does not hold up the others, neither on the same
/// Loader nor on another Loader that meets (and migrates) the destination for the first time.
/// </summary>
public sealed class RunFenceTests : IAsyncLifetime
{
    private const int Rows = 500;
    private const int BatchSize = 100;
    private const long HeldKey = 4243;
    private static readonly JobSpec Job = new(
        "fenced",
        new SourceSpec(SourceKind.Postgres, "db", "public.src", "version", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.Postgres, "db", "public.dst", ["id"]),
        BatchSize: BatchSize,
        Schedule: null);

    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("fence_conn");
        // The first batch's row 1 waits on an advisory lock the test holds, inside its load transaction.
        await _scratch.ExecuteAsync($"""
            CREATE TABLE src (id bigint PRIMARY KEY, version bigint NOT NULL, note text NOT NULL);
            INSERT INTO src SELECT g, g, 'row ' || g FROM generate_series(1, {Rows}) g;
            CREATE TABLE dst (id bigint PRIMARY KEY, version bigint NOT NULL, note text NOT NULL);
            CREATE FUNCTION held() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_advisory_xact_lock_shared({HeldKey}); RETURN NEW; END $$;
            CREATE TRIGGER held BEFORE INSERT ON dst FOR EACH ROW WHEN (NEW.id = 1) EXECUTE FUNCTION held();
            """);
        _connections = _scratch.Catalog("db");
        _resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task A_held_first_batch_of_a_new_run_does_not_hold_up_the_runs_other_batches()
    {
        var batches = new List<RecordBatch>();
        await new PostgresSource(_connections, _resilience).ExtractAsync(Job, after: null, (batch, _, _) =>
        {
            batches.Add(batch);
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
        Assert.Equal(Rows / BatchSize, batches.Count);

        // An earlier run has loaded here, so the new run's first batch raises the fence.
        var earlier = new PostgresDestination(_connections, _resilience);
        await earlier.LoadAsync(new BatchToLoad(Job, Guid.NewGuid(), Guid.NewGuid(), 1, batches[^1], Fence: 1, LoadedBy: "earlier"), CancellationToken.None);

        await using var gate = new NpgsqlConnection(_scratch.ConnectionString);
        await gate.OpenAsync();
        await ExecuteAsync(gate, $"SELECT pg_advisory_lock({HeldKey})");

        var (runId, extractionId) = (Guid.NewGuid(), Guid.NewGuid());
        var loader = new PostgresDestination(_connections, _resilience);
        var first = loader.LoadAsync(new BatchToLoad(Job, runId, extractionId, 1, batches[0], Fence: 2, LoadedBy: "one"), CancellationToken.None);
        await WaitUntilHeldAsync(first);

        // If the held batch kept the fence row (or the bookkeeping DDL waited behind it) these would wait
        // for the gate, which opens only after them: the bound turns that wait into a failure.
        using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        // A Loader process meeting the destination for the first time migrates it (this process has
        // already, and caches that per connection string, so the migration is run here directly):
        // up to date, it is only read, so it does not wait behind the held batch either (DDL would: an
        // ALTER of applied_batches here fails this 10 s bound).
        using (var quick = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        await using (var fresh = new NpgsqlConnection(_scratch.ConnectionString))
        {
            await fresh.OpenAsync(quick.Token);
            await PostgresMigrator.MigrateAsync(fresh, quick.Token);
        }

        var another = new PostgresDestination(_connections, _resilience);
        var others = new List<LoadResult>();
        for (var seq = 2; seq <= batches.Count; seq++)
        {
            var destination = seq % 2 == 0 ? loader : another;
            others.Add(await destination.LoadAsync(new BatchToLoad(Job, runId, extractionId, seq, batches[seq - 1], Fence: 2, LoadedBy: seq % 2 == 0 ? "one" : "two"), bound.Token));
        }

        Assert.False(first.IsCompleted);
        await ExecuteAsync(gate, $"SELECT pg_advisory_unlock({HeldKey})");
        var held = await first;

        Assert.All(others.Prepend(held), r => Assert.Equal((BatchSize, false, false), (r.Rows, r.Superseded, r.Replayed)));
        Assert.Equal((long)Rows, await ScalarAsync("SELECT count(*) FROM dst"));
        Assert.Equal((long)batches.Count + 1, await ScalarAsync("SELECT count(*) FROM sync.applied_batches"));
        Assert.Equal(2L, await ScalarAsync("SELECT fence FROM sync.job_fences WHERE job_name = 'fenced'"));
    }

    [Fact]
    public async Task A_batch_of_an_older_run_is_refused_once_a_later_run_raised_the_fence()
    {
        var batch = await FirstBatchAsync();
        var destination = new PostgresDestination(_connections, _resilience);
        await ExecuteAsync("DROP TRIGGER held ON dst");

        var later = await destination.LoadAsync(new BatchToLoad(Job, Guid.NewGuid(), Guid.NewGuid(), 1, batch, Fence: 8, LoadedBy: null), CancellationToken.None);
        var older = await destination.LoadAsync(new BatchToLoad(Job, Guid.NewGuid(), Guid.NewGuid(), 1, batch, Fence: 7, LoadedBy: null), CancellationToken.None);

        Assert.Equal((false, true), (later.Superseded, older.Superseded));
        Assert.Equal(8L, await ScalarAsync("SELECT fence FROM sync.job_fences WHERE job_name = 'fenced'"));
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM sync.applied_batches"));
    }

    private async Task<RecordBatch> FirstBatchAsync()
    {
        RecordBatch? first = null;
        await new PostgresSource(_connections, _resilience).ExtractAsync(Job, after: null, (batch, _, _) =>
        {
            first ??= batch;
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
        return first!;
    }

    /// <summary>Waits until the load is blocked on the gate's advisory lock (or fails, if it ended first).</summary>
    private async Task WaitUntilHeldAsync(Task<LoadResult> load)
    {
        while (await ScalarAsync($"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = {HeldKey} AND NOT granted") is 0L)
        {
            Assert.False(load.IsCompleted, $"The first batch was not held: {(load.IsFaulted ? load.Exception : "it completed")}");
            await Task.Delay(20);
        }
    }

    private Task ExecuteAsync(string sql) => _scratch.ExecuteAsync(sql);

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    private Task<object?> ScalarAsync(string sql) => _scratch.ScalarAsync(sql);
}
