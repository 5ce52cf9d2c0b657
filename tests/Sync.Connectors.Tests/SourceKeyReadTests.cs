using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// What a dead letter's replay loads for a database source (issue 14, item 6), against real
/// PostgreSQL: the row as the source has it now, read by key; for a row that is gone, in a job
/// that deletes, a delete of its key.
/// </summary>
public sealed class SourceKeyReadTests : IAsyncLifetime
{
    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("keys_conn");
        _connections = _scratch.Catalog("db");
        _resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
        await _scratch.ExecuteAsync("""
            CREATE TABLE src (id bigint PRIMARY KEY, updated_at timestamptz, total numeric, note text, day date);
            CREATE TABLE dst (id bigint PRIMARY KEY, updated_at timestamptz, total numeric, note text, day date);
            INSERT INTO src (id, note) VALUES (1, '1 now'), (2, '2 now');
            INSERT INTO dst (id, note) VALUES (1, '1 stored'), (3, '3 stored');
            CREATE TYPE unrelated AS ENUM ('x');
            CREATE SCHEMA other;
            CREATE DOMAIN other.year AS integer CHECK (VALUE >= 1901);
            CREATE TYPE other.mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
            CREATE DOMAIN year AS integer CHECK (VALUE >= 1901);
            CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
            CREATE TABLE film (film_id integer PRIMARY KEY, release_year year, rating mpaa_rating, past_ratings mpaa_rating[], years year[], fulltext tsvector);
            CREATE TABLE other.film (film_id integer PRIMARY KEY, release_year other.year, rating other.mpaa_rating, past_ratings other.mpaa_rating[], years other.year[], fulltext tsvector);
            INSERT INTO film VALUES (1, 2006, 'NC-17', '{G,PG-13}', '{1999,2155}', 'a:1 b:2'), (2, NULL, NULL, '{}', NULL, NULL);
            INSERT INTO other.film (film_id, rating) VALUES (1, 'G');
            """);
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task A_replayed_key_loads_the_current_row_and_a_gone_key_deletes_its_row()
    {
        var job = new JobSpec(
            "replay_keys",
            new SourceSpec(SourceKind.Postgres, "db", "public.src", string.Empty, ["id"]),
            new TransformSpec([]),
            new DestinationSpec(DestinationKind.Postgres, "db", "public.dst", ["id"], ConflictStrategy.SourceWins, DeleteMode.Delete),
            BatchSize: 1000,
            Schedule: null,
            Mode: SyncMode.Cdc);
        var source = new PostgresSource(_connections, _resilience);
        var destination = new PostgresDestination(_connections, _resilience);

        var rows = await source.ReadKeysAsync(job, [["1"], ["3"]], CancellationToken.None);

        Assert.Equal([1, 0], rows.Select(r => r.RowCount));
        var gone = PostgresSource.KeyDelete(job, rows[1].Columns, ["3"]);
        var run = Guid.NewGuid();
        var updated = await destination.LoadAsync(new BatchToLoad(job, run, run, 0, rows[0], Fence: 0), CancellationToken.None);
        var deleted = await destination.LoadAsync(new BatchToLoad(job, run, run, 1, gone, Fence: 0), CancellationToken.None);
        Assert.Equal((1, 1), (updated.Updated, deleted.Deleted));
        Assert.Equal("1:1 now", await _scratch.ScalarAsync("SELECT string_agg(id || ':' || note, '|' ORDER BY id) FROM dst"));
    }

    [Fact]
    public async Task A_replayed_row_of_a_domain_an_enum_and_their_arrays_loads_into_a_destination_whose_types_have_other_oids()
    {
        // The destination's types are others of the same names and labels (another schema: other OIDs), as in another database.
        var job = new JobSpec(
            "replay_types",
            new SourceSpec(SourceKind.Postgres, "db", "public.film", string.Empty, ["film_id"]),
            new TransformSpec([]),
            new DestinationSpec(DestinationKind.Postgres, "db", "other.film", ["film_id"], ConflictStrategy.SourceWins, DeleteMode.Delete),
            BatchSize: 1000,
            Schedule: null,
            Mode: SyncMode.Cdc);
        var source = new PostgresSource(_connections, _resilience);
        var destination = new PostgresDestination(_connections, _resilience);

        var rows = await source.ReadKeysAsync(job, [["1"], ["2"]], CancellationToken.None);
        var run = Guid.NewGuid();
        var updated = await destination.LoadAsync(new BatchToLoad(job, run, run, 0, rows[0], Fence: 0), CancellationToken.None);
        var inserted = await destination.LoadAsync(new BatchToLoad(job, run, run, 1, rows[1], Fence: 0), CancellationToken.None);

        Assert.Equal((1, 1), (updated.Updated, inserted.Inserted));
        Assert.Equal(
            await _scratch.ScalarAsync("SELECT string_agg(f::text, '|' ORDER BY film_id) FROM public.film f"),
            await _scratch.ScalarAsync("SELECT string_agg(f::text, '|' ORDER BY film_id) FROM other.film f"));
    }
}
