using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// Real failures against the PostgreSQL of <c>./run test</c> (SYNC_PG_CONNECTION): the destination
/// kills its own backend or stalls in the middle of the load transaction, and the pipeline runs the
/// whole transaction again on a fresh connection; a constraint violation is not retried.
/// </summary>
public sealed class PostgresResilienceTests : IAsyncLifetime
{
    private const int Rows = 500;
    private static readonly JobSpec Job = new(
        "resilience",
        new SourceSpec(SourceKind.Postgres, "db", "public.src", "version", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.Postgres, "db", "public.dst", ["id"]),
        BatchSize: 1000,
        Schedule: null);

    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;

    private string Database => _scratch.ConnectionString;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("rs_conn");
        // Failed attempts roll back, so attempts are counted on a sequence (nextval is not transactional).
        await _scratch.ExecuteAsync($"""
            CREATE TABLE src (id bigint PRIMARY KEY, version bigint NOT NULL, note text NOT NULL);
            INSERT INTO src SELECT g, g, 'row ' || g FROM generate_series(1, {Rows}) g;
            CREATE TABLE dst (id bigint PRIMARY KEY, version bigint NOT NULL, note text NOT NULL);
            CREATE SEQUENCE attempts;
            """);
        _connections = _scratch.Catalog("db");
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task A_backend_terminated_in_the_middle_of_the_load_is_retried_as_a_whole_transaction()
    {
        await _scratch.ExecuteAsync("""
            CREATE FUNCTION die_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('attempts') = 1 THEN
                    PERFORM pg_terminate_backend(pg_backend_pid());
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER die_once BEFORE INSERT ON dst FOR EACH STATEMENT EXECUTE FUNCTION die_once();
            """);

        var result = await LoadAsync(Resilience());

        Assert.Equal((Rows, Rows, false), (result.Rows, result.Inserted, result.Replayed));
        Assert.Equal(2L, await ScalarAsync("SELECT last_value FROM attempts"));
        Assert.Equal((long)Rows, await ScalarAsync("SELECT count(*) FROM dst"));
        Assert.Equal(1L, await ScalarAsync("SELECT count(*) FROM sync.applied_batches"));
    }

    [Fact]
    public async Task An_attempt_that_stalls_past_its_timeout_is_cancelled_and_retried()
    {
        await _scratch.ExecuteAsync("""
            CREATE FUNCTION stall_once() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('attempts') = 1 THEN
                    PERFORM pg_sleep(30);
                END IF;
                RETURN NULL;
            END $$;
            CREATE TRIGGER stall_once BEFORE INSERT ON dst FOR EACH STATEMENT EXECUTE FUNCTION stall_once();
            """);
        var started = DateTime.UtcNow;

        var result = await LoadAsync(Resilience(o => o.AttemptTimeout = TimeSpan.FromSeconds(2)));

        Assert.Equal(Rows, result.Inserted);
        Assert.Equal(2L, await ScalarAsync("SELECT last_value FROM attempts"));
        Assert.True(DateTime.UtcNow - started < TimeSpan.FromSeconds(20), "the stalled attempt was not cut at its timeout");
    }

    [Fact]
    public async Task A_permanent_error_is_not_retried()
    {
        // A refusal of the whole load (class 42, not a per-record data error: those the Loader sets
        // aside as dead letters instead of failing). The sequence counts attempts across rollbacks.
        await _scratch.ExecuteAsync("""
            CREATE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN PERFORM nextval('attempts'); RAISE EXCEPTION 'writes to dst are not allowed' USING ERRCODE = 'insufficient_privilege'; END $$;
            CREATE TRIGGER refuse_insert BEFORE INSERT ON dst FOR EACH STATEMENT EXECUTE FUNCTION refuse_insert();
            """);

        var thrown = await Assert.ThrowsAsync<PostgresException>(() => LoadAsync(Resilience()));

        Assert.Equal(PostgresErrorCodes.InsufficientPrivilege, thrown.SqlState);
        Assert.Equal(1L, await ScalarAsync("SELECT last_value FROM attempts"));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM dst"));
    }

    private async Task<LoadResult> LoadAsync(ConnectorResilience resilience)
    {
        var batches = new List<RecordBatch>();
        await new PostgresSource(_connections, resilience).ExtractAsync(Job, after: null, (batch, _, _) =>
        {
            batches.Add(batch);
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
        var batch = Assert.Single(batches);
        return await new PostgresDestination(_connections, resilience).LoadAsync(new BatchToLoad(Job, Guid.NewGuid(), Guid.NewGuid(), 1, batch, Fence: 1), CancellationToken.None);
    }

    private static ConnectorResilience Resilience(Action<ConnectorResilienceOptions>? configure = null)
    {
        var options = new ConnectorResilienceOptions { RetryDelay = TimeSpan.FromMilliseconds(50), RetryMaxDelay = TimeSpan.FromMilliseconds(200) };
        configure?.Invoke(options);
        return new ConnectorResilience(Options.Create(options), NullLogger<ConnectorResilience>.Instance);
    }

    private Task<object?> ScalarAsync(string sql) => _scratch.ScalarAsync(sql);
}
