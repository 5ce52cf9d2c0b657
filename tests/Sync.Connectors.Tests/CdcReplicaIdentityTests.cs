using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Cdc;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// A cdc job's table must have a replica identity holding the job's key before Sync publishes it
/// (issue 14, item 3): published without one, the application's own UPDATE and DELETE on the table
/// fail. A refused job leaves the table unpublished and the application writing.
/// </summary>
public sealed class CdcReplicaIdentityTests : IAsyncLifetime
{
    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("cdc_identity");
        await _scratch.ExecuteAsync("""
            CREATE TABLE events (id bigint NOT NULL, email text NOT NULL, note text);
            INSERT INTO events SELECT g, 'e' || g || '@example.com', 'event ' || g FROM generate_series(1, 100) g;
            CREATE TABLE keyed (id bigint PRIMARY KEY, email text NOT NULL UNIQUE, note text);
            INSERT INTO keyed SELECT g, 'k' || g || '@example.com', 'row ' || g FROM generate_series(1, 100) g;
            CREATE TABLE nothing (id bigint PRIMARY KEY, note text);
            ALTER TABLE nothing REPLICA IDENTITY NOTHING;
            CREATE TABLE full_rows (id bigint NOT NULL, note text);
            ALTER TABLE full_rows REPLICA IDENTITY FULL;
            INSERT INTO full_rows SELECT g, 'row ' || g FROM generate_series(1, 10) g;
            CREATE TABLE parted (id bigint NOT NULL, day date NOT NULL, note text) PARTITION BY RANGE (day);
            CREATE TABLE parted_a PARTITION OF parted FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');
            CREATE TABLE parted_b PARTITION OF parted FOR VALUES FROM ('2026-07-01') TO ('2027-01-01');
            CREATE UNIQUE INDEX parted_a_id ON parted_a (id);
            ALTER TABLE parted_a REPLICA IDENTITY USING INDEX parted_a_id;
            """);
        _connections = _scratch.Catalog("db");
    }

    public async Task DisposeAsync()
    {
        // DROP DATABASE (ScratchDatabase.DropAsync) drops the database's replication slots too; every run here has ended its reader.
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Theory]
    [InlineData("events", "id", "no primary key")]
    [InlineData("nothing", "id", "REPLICA IDENTITY NOTHING")]
    [InlineData("parted", "id", "parted_b")]
    [InlineData("keyed", "email", "not in the replica identity")]
    public async Task A_table_without_a_replica_identity_holding_the_key_is_refused_and_left_unpublished(string table, string key, string reason)
    {
        var job = Job(table, key);

        var refused = await Assert.ThrowsAsync<SourceSchemaException>(() => ExtractAsync(job));
        var problems = await new JobSchemaCheck(_connections).CheckAsync(job, CancellationToken.None);

        Assert.Contains(reason, refused.Message, StringComparison.Ordinal);
        Assert.Contains(problems, p => p.Field == "source.primary_key" && p.Message == refused.Message);
        Assert.Equal(0L, await _scratch.ScalarAsync("SELECT count(*) FROM pg_publication_tables"));
        // The application's writes go on.
        await _scratch.ExecuteAsync($"UPDATE {table} SET note = 'still writable' WHERE id = 1; DELETE FROM {table} WHERE id = 2");
    }

    [Fact]
    public async Task A_table_with_replica_identity_full_is_followed_without_a_primary_key()
    {
        var job = Job("full_rows", "id");

        var rows = await ExtractAsync(job);

        Assert.Equal(10, rows);
        await _scratch.ExecuteAsync("UPDATE full_rows SET note = 'after' WHERE id = 1; DELETE FROM full_rows WHERE id = 2");
    }

    private static JobSpec Job(string table, string key) => new(
        $"identity-{table}",
        new SourceSpec(SourceKind.Postgres, "db", $"public.{table}", "", [key]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.Postgres, "db", $"public.{table}_copy", [key]),
        BatchSize: 1000,
        Schedule: "continuous",
        Mode: SyncMode.Cdc);

    private async Task<long> ExtractAsync(JobSpec job)
    {
        var resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
        var source = new PostgresChangeSource(_connections, resilience, Options.Create(new CdcOptions { RunDuration = TimeSpan.FromSeconds(1) }), NullLogger<PostgresChangeSource>.Instance);
        var summary = await source.ExtractAsync(job, after: null, (_, _, _) => ValueTask.CompletedTask, CancellationToken.None);
        return summary.RowCount;
    }
}
