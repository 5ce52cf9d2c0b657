using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// A PostgreSQL destination's bookkeeping made by versioned migrations (issue 17, item 3), against real
/// PostgreSQL: a fresh destination, one whose tables the ensure-on-first-use code of earlier versions
/// made (with rows), Loaders migrating one destination at once, and one a newer Sync migrated.
/// </summary>
public sealed class PostgresMigrationTests : IAsyncLifetime
{
    // What the ensure-on-first-use code ran on a destination before migrations, verbatim
    // (DestinationBookkeeping.EnsureAsync, then RefreshKeys' keys table and sync.applied_sweeps).
    private const string EnsureCodeSql =
        """
        BEGIN;
        SELECT pg_advisory_xact_lock(7320512);
        CREATE SCHEMA IF NOT EXISTS sync;
        CREATE TABLE IF NOT EXISTS sync.applied_batches (
            run_id uuid NOT NULL,
            extraction_id uuid NOT NULL,
            batch_seq integer NOT NULL,
            job_name text NOT NULL,
            rows integer NOT NULL,
            inserted integer NOT NULL,
            updated integer NOT NULL,
            skipped integer NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (run_id, extraction_id, batch_seq));
        CREATE INDEX IF NOT EXISTS applied_batches_applied_at ON sync.applied_batches (applied_at);
        -- The rows the destination refused, so a redelivered batch reports the same rejections.
        ALTER TABLE sync.applied_batches ADD COLUMN IF NOT EXISTS rejected jsonb NOT NULL DEFAULT '[]';
        -- Which Loader instance applied the batch (LoaderOptions.InstanceName), so scaled-out Loaders can be told apart.
        ALTER TABLE sync.applied_batches ADD COLUMN IF NOT EXISTS loaded_by text;
        -- Rows a change batch's deletes removed or soft-deleted, counted apart from updates and skips.
        ALTER TABLE sync.applied_batches ADD COLUMN IF NOT EXISTS deleted integer NOT NULL DEFAULT 0;
        CREATE TABLE IF NOT EXISTS sync.job_fences (
            job_name text PRIMARY KEY,
            fence bigint NOT NULL,
            raised_at timestamptz NOT NULL DEFAULT now());
        COMMIT;
        BEGIN;
        SELECT pg_advisory_xact_lock(7320512);
        CREATE TABLE IF NOT EXISTS sync."refresh_keys_0123456789abcdef" (fence bigint NOT NULL, "id" bigint NOT NULL, PRIMARY KEY (fence, "id"));
        CREATE TABLE IF NOT EXISTS sync.applied_sweeps (
            run_id uuid PRIMARY KEY,
            job_name text NOT NULL,
            fence bigint NOT NULL,
            deleted bigint NOT NULL,
            applied_at timestamptz NOT NULL DEFAULT now());
        COMMIT;
        """;

    // The layout a destination kept when it was made before `deleted` was added: the ensure code
    // checked only rejected and loaded_by, so it never added the column.
    private static readonly string BeforeDeletedSql = EnsureCodeSql.Replace(
        "ALTER TABLE sync.applied_batches ADD COLUMN IF NOT EXISTS deleted integer NOT NULL DEFAULT 0;", string.Empty, StringComparison.Ordinal);

    private static readonly JobSpec Job = new(
        "orders",
        new SourceSpec(SourceKind.Postgres, "src", "public.orders", "updated_at", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.Postgres, "db", "public.dst", ["id"]),
        BatchSize: 1000,
        Schedule: null);

    private static readonly Guid OldRun = Guid.Parse("6f9f1c1e-0000-4000-8000-000000000001");

    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("migr_conn");
        await _scratch.ExecuteAsync("CREATE TABLE dst (id bigint PRIMARY KEY, updated_at timestamptz, total numeric, note text, day date)");
        _connections = _scratch.Catalog("db");
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task A_fresh_destination_gets_every_migration_once()
    {
        await MigrateAsync();
        await MigrateAsync();

        Assert.Equal(PostgresMigrator.Migrations.Select(m => $"{m.Version}:{m.Name}"), await VersionsAsync());
        Assert.Equal(["1:bookkeeping", "2:applied_batch_counts", "3:applied_sweeps"], await VersionsAsync());
        Assert.Equal(
            "applied_at|batch_seq|deleted|extraction_id|inserted|job_name|loaded_by|rejected|rows|run_id|skipped|updated",
            await _scratch.ScalarAsync("SELECT string_agg(column_name, '|' ORDER BY column_name) FROM information_schema.columns WHERE table_schema = 'sync' AND table_name = 'applied_batches'"));
        Assert.Equal(true, await _scratch.ScalarAsync("SELECT to_regclass('sync.job_fences') IS NOT NULL AND to_regclass('sync.applied_sweeps') IS NOT NULL"));
    }

    [Fact]
    public async Task A_destination_the_ensure_code_made_is_adopted_with_its_rows()
    {
        await _scratch.ExecuteAsync(EnsureCodeSql);
        await SeedOldRowsAsync();

        // First use by a Loader: the batch the old code recorded is recognised, with its counts.
        var replay = await LoadAsync(OldRun, fence: 0);

        Assert.Equal((true, 1, 1, 0, 0), (replay.Replayed, replay.Rows, replay.Inserted, replay.Updated, replay.Skipped));
        Assert.Equal(["1:bookkeeping", "2:applied_batch_counts", "3:applied_sweeps"], await VersionsAsync());
        Assert.Equal("1|1|1|1", await _scratch.ScalarAsync(
            "SELECT (SELECT count(*) FROM sync.applied_batches) || '|' || (SELECT count(*) FROM sync.job_fences) || '|' || (SELECT count(*) FROM sync.applied_sweeps) || '|' || (SELECT count(*) FROM sync.refresh_keys_0123456789abcdef)"));
    }

    [Fact]
    public async Task A_destination_made_before_the_deleted_column_gains_it_keeps_its_rows_and_loads()
    {
        await _scratch.ExecuteAsync(BeforeDeletedSql);
        await SeedOldRowsAsync();

        var loaded = await LoadAsync(Guid.NewGuid(), fence: 0);

        Assert.Equal((false, 1, 1), (loaded.Replayed, loaded.Rows, loaded.Inserted));
        Assert.Equal(["1:bookkeeping", "2:applied_batch_counts", "3:applied_sweeps"], await VersionsAsync());
        Assert.Equal("old:0|new:0", await _scratch.ScalarAsync(
            $"SELECT string_agg(CASE WHEN run_id = '{OldRun}' THEN 'old' ELSE 'new' END || ':' || deleted, '|' ORDER BY run_id = '{OldRun}' DESC) FROM sync.applied_batches"));
        Assert.Equal(7L, await _scratch.ScalarAsync("SELECT fence FROM sync.job_fences WHERE job_name = 'orders'"));
    }

    [Fact]
    public async Task Loaders_migrating_one_destination_at_once_apply_each_migration_exactly_once()
    {
        const int loaders = 6;
        var connections = new List<NpgsqlConnection>();
        for (var i = 0; i < loaders; i++)
        {
            var connection = new NpgsqlConnection(_scratch.ConnectionString);
            await connection.OpenAsync();
            connections.Add(connection);
        }

        using var start = new SemaphoreSlim(0);
        var migrations = connections.Select(async c =>
        {
            await start.WaitAsync();
            await PostgresMigrator.MigrateAsync(c, CancellationToken.None);
        }).ToList();
        start.Release(loaders);
        await Task.WhenAll(migrations);

        Assert.Equal(["1:bookkeeping", "2:applied_batch_counts", "3:applied_sweeps"], await VersionsAsync());
        Assert.Equal(3L, await _scratch.ScalarAsync("SELECT count(*) FROM sync.schema_migrations"));
        foreach (var connection in connections)
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_destination_a_newer_Sync_migrated_is_refused_naming_both_versions()
    {
        await MigrateAsync();
        await _scratch.ExecuteAsync("INSERT INTO sync.schema_migrations (version, name) VALUES (4, 'from_a_newer_sync')");

        var refused = await Assert.ThrowsAsync<DestinationSchemaException>(() => LoadAsync(Guid.NewGuid(), fence: 0));

        Assert.Contains("version 4", refused.Message, StringComparison.Ordinal);
        Assert.Contains("version 3 (applied_sweeps)", refused.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await _scratch.ScalarAsync("SELECT count(*) FROM dst"));
    }

    private async Task SeedOldRowsAsync() => await _scratch.ExecuteAsync($"""
        INSERT INTO sync.applied_batches (run_id, extraction_id, batch_seq, job_name, rows, inserted, updated, skipped, loaded_by)
            VALUES ('{OldRun}', '{OldRun}', 1, 'orders', 1, 1, 0, 0, 'old-loader');
        INSERT INTO sync.job_fences (job_name, fence) VALUES ('orders', 7);
        INSERT INTO sync.applied_sweeps (run_id, job_name, fence, deleted) VALUES ('{OldRun}', 'orders', 6, 2);
        INSERT INTO sync.refresh_keys_0123456789abcdef VALUES (7, 1);
        """);

    private async Task MigrateAsync()
    {
        await using var connection = new NpgsqlConnection(_scratch.ConnectionString);
        await connection.OpenAsync();
        await PostgresMigrator.MigrateAsync(connection, CancellationToken.None);
    }

    private Task<LoadResult> LoadAsync(Guid run, long fence)
    {
        var destination = new PostgresDestination(
            _connections, new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance));
        var batch = SampleBatch.Of(["1", "2026-01-01T00:00:00+00:00", "1", "one", null]);
        return destination.LoadAsync(new BatchToLoad(Job, run, run, 1, batch, fence), CancellationToken.None);
    }

    private async Task<List<string>> VersionsAsync()
    {
        var text = await _scratch.ScalarAsync("SELECT string_agg(version || ':' || name, ',' ORDER BY version) FROM sync.schema_migrations");
        return [.. ((string)text!).Split(',')];
    }
}
