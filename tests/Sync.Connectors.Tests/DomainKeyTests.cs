using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Cdc;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// A domain over a plain type as the primary key or the cursor (Pagila's ids and stamps are often
/// such domains) is carried as its base type, in mode: incremental and mode: cdc, into a destination
/// whose domains have other OIDs; and a dead letter's replay, which reads rows again by key, loads a
/// domain, an enum and arrays of them into such a destination. Before, the plan refused the key
/// ("cannot order a cursor or identify a row (type OID …)").
/// </summary>
public sealed class DomainKeyTests : IAsyncLifetime
{
    private const string Types = """
        CREATE DOMAIN film_key AS integer CONSTRAINT film_key_check CHECK (VALUE > 0);
        CREATE DOMAIN stamp AS timestamptz;
        CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
        CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
        """;

    private const string Film = """
        (film_id film_key PRIMARY KEY, title text NOT NULL, release_year year, rating mpaa_rating, past_ratings mpaa_rating[],
         rerelease_years year[], fulltext tsvector, last_update stamp NOT NULL DEFAULT now())
        """;

    private const string Digest = "SELECT count(*) || ' ' || coalesce(md5(string_agg(f::text, '|' ORDER BY f.film_id)), '') FROM {0} f";

    private readonly CdcOptions _options = new() { RunDuration = TimeSpan.FromSeconds(3), IdleEnd = TimeSpan.FromMilliseconds(300), FlushInterval = TimeSpan.FromMilliseconds(50) };
    private ScratchDatabase _source = null!;
    private ScratchDatabase _destination = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        _source = await ScratchDatabase.CreateAsync("domain_key_src");
        _destination = await ScratchDatabase.CreateAsync("domain_key_dst");
        // The destination gets its types after others, so no OID matches the source's.
        await _destination.ExecuteAsync("CREATE TYPE unrelated AS ENUM ('x'); CREATE DOMAIN unrelated_d AS bigint;" + Types + $"CREATE TABLE film_copy {Film};");
        await _source.ExecuteAsync(Types + $"CREATE TABLE film {Film};" + """
            INSERT INTO film (film_id, title, release_year, rating, past_ratings, rerelease_years, fulltext, last_update)
            SELECT g, 'FILM ' || g, 1901 + g % 200, (enum_range(NULL::mpaa_rating))[1 + g % 5], ARRAY['PG', 'R']::mpaa_rating[],
                   ARRAY[2000 + g % 50]::year[], to_tsvector('english', 'film ' || g), '2024-01-01 00:00+00'::timestamptz + g * interval '1 minute'
            FROM generate_series(1, 300) g;
            """);
        _connections = new ConnectionCatalog(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Connections:source"] = _source.ConnectionString,
                ["Connections:destination"] = _destination.ConnectionString,
            })
            .Build());
        _resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
    }

    public async Task DisposeAsync()
    {
        // A leftover slot would retain WAL on the shared server for ever.
        await _source.ExecuteAsync("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database()");
        await _connections.DisposeAsync();
        await _source.DropAsync();
        await _destination.DropAsync();
    }

    [Fact]
    public async Task A_cdc_job_keyed_by_a_domain_copies_and_streams_inserts_updates_key_changes_and_deletes()
    {
        var job = Job("cdc_domain_key_" + Guid.NewGuid().ToString("N")[..8], "mode: cdc", "[film_id]");
        var snapshot = await CdcRunAsync(job, after: null);
        Assert.Equal(await DigestAsync(_source, "film"), await DigestAsync(_destination, "film_copy"));

        await _source.ExecuteAsync("""
            INSERT INTO film (film_id, title, release_year, rating) VALUES (1000, 'NEW', 2006, 'NC-17');
            UPDATE film SET rating = 'G', title = 'UPDATED ' || film_id WHERE film_id % 10 = 1;
            UPDATE film SET film_id = film_id + 5000 WHERE film_id % 10 = 3;
            DELETE FROM film WHERE film_id % 10 = 2;
            """);
        await CdcRunAsync(job, snapshot.High);

        Assert.Equal(300 + 1 - 30, (long)(await _destination.ScalarAsync("SELECT count(*) FROM film_copy"))!);
        Assert.Equal(await DigestAsync(_source, "film"), await DigestAsync(_destination, "film_copy"));
    }

    [Fact]
    public async Task An_incremental_job_with_a_domain_cursor_and_a_domain_key_reads_on_from_its_watermark()
    {
        var job = Job("inc_domain_key", "cursor: last_update", "[film_id]");
        var first = await IncrementalRunAsync(job, after: null);
        await _source.ExecuteAsync("""
            INSERT INTO film (film_id, title, last_update) VALUES (1000, 'NEW', '2025-01-01 00:00+00');
            UPDATE film SET title = 'UPDATED', last_update = '2025-01-02 00:00+00' WHERE film_id IN (5, 6);
            """);
        var second = await IncrementalRunAsync(job, first.High);

        Assert.Equal((300L, 3L), (first.Rows, second.Rows));
        Assert.StartsWith("2025-01-02", second.High!.Values[0], StringComparison.Ordinal);
        Assert.Equal("6", second.High.Values[1]);
        Assert.Equal(await DigestAsync(_source, "film"), await DigestAsync(_destination, "film_copy"));
    }

    [Fact]
    public async Task A_replay_read_again_by_a_domain_key_loads_domains_enums_and_their_arrays_into_other_oids_and_deletes_a_gone_key()
    {
        var job = Job("replay_domain_key", "mode: cdc", "[film_id]");
        await _destination.ExecuteAsync("INSERT INTO film_copy (film_id, title, rating) VALUES (7, 'STORED', 'G'), (9999, 'GONE', 'R')");
        await _source.ExecuteAsync("UPDATE film SET rating = 'NC-17', past_ratings = '{G,NC-17}', rerelease_years = '{1999,2155}' WHERE film_id = 7");
        var source = new PostgresSource(_connections, _resilience);
        var destination = new PostgresDestination(_connections, _resilience);

        var rows = await source.ReadKeysAsync(job, [["7"], ["9999"]], CancellationToken.None);
        var gone = PostgresSource.KeyDelete(job, rows[1].Columns, ["9999"]);
        var run = Guid.NewGuid();
        var updated = await destination.LoadAsync(new BatchToLoad(job, run, run, 0, rows[0], Fence: 0), CancellationToken.None);
        var deleted = await destination.LoadAsync(new BatchToLoad(job, run, run, 1, gone, Fence: 0), CancellationToken.None);

        Assert.Equal((1, 0), (rows[0].RowCount, rows[1].RowCount));
        Assert.Equal((1, 1), (updated.Updated, deleted.Deleted));
        Assert.Equal(
            await _source.ScalarAsync("SELECT f::text FROM film f WHERE film_id = 7"),
            await _destination.ScalarAsync("SELECT string_agg(f::text, '|') FROM film_copy f"));
    }

    private async Task<(long Rows, CursorPosition? High)> CdcRunAsync(JobSpec job, CursorPosition? after)
    {
        var destination = new PostgresDestination(_connections, _resilience);
        var source = new PostgresChangeSource(_connections, _resilience, Options.Create(_options), NullLogger<PostgresChangeSource>.Instance);
        var (runId, extractionId, seq) = (Guid.NewGuid(), Guid.NewGuid(), 0);
        var summary = await source.ExtractAsync(job, after, async (batch, _, ct) =>
        {
            seq++;
            await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, seq, batch, Fence: 0), ct);
        }, CancellationToken.None);
        return (summary.RowCount, summary.High);
    }

    private async Task<(long Rows, CursorPosition? High)> IncrementalRunAsync(JobSpec job, CursorPosition? after)
    {
        var destination = new PostgresDestination(_connections, _resilience);
        var source = new PostgresSource(_connections, _resilience);
        var (runId, seq) = (Guid.NewGuid(), 0);
        var summary = await source.ExtractAsync(job, after, async (batch, _, ct) =>
        {
            seq++;
            await destination.LoadAsync(new BatchToLoad(job, runId, runId, seq, batch, Fence: 0), ct);
        }, CancellationToken.None);
        return (summary.RowCount, summary.High);
    }

    private static async Task<string> DigestAsync(ScratchDatabase database, string table) =>
        (string)(await database.ScalarAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Digest, table)))!;

    private static JobSpec Job(string name, string mode, string primaryKey)
    {
        var result = JobFile.Parse(
            $$"""
            name: {{name}}
            batch_size: 100
            source:
              type: postgres
              connection: source
              table: public.film
              {{mode}}
              primary_key: {{primaryKey}}
            destination:
              type: postgres
              connection: destination
              table: public.film_copy
            {{(mode == "mode: cdc" ? "  deletes: delete" : string.Empty)}}
            """,
            "job.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }
}
