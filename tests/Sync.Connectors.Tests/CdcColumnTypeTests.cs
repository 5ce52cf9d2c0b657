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
/// mode: cdc carries every column type (issue 14): a Pagila-like film table with a domain, an enum,
/// arrays of both, text[], tsvector, a composite, ranges, json and bytea is copied and then streamed
/// into a destination database whose types have other OIDs, and ends equal to the source.
/// </summary>
public sealed class CdcColumnTypeTests : IAsyncLifetime
{
    private const string Types = """
        CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
        CREATE DOMAIN title_text AS text;
        CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
        CREATE TYPE film_credit AS (role text, person text, billed integer, rating mpaa_rating);
        """;

    private const string Film = """
        (film_id integer PRIMARY KEY, title title_text NOT NULL, release_year year, rating mpaa_rating DEFAULT 'G',
         past_ratings mpaa_rating[], rerelease_years year[], special_features text[], fulltext tsvector,
         lead_credit film_credit, credits film_credit[], showing tstzrange, runtime int4range, extra json,
         poster bytea, rental_rate money, last_update timestamptz NOT NULL DEFAULT now())
        """;

    private const string Digest = "SELECT count(*) || ' ' || coalesce(md5(string_agg(f::text, '|' ORDER BY f.film_id)), '') FROM {0} f";

    private readonly CdcOptions _options = new() { RunDuration = TimeSpan.FromSeconds(3), IdleEnd = TimeSpan.FromMilliseconds(300), FlushInterval = TimeSpan.FromMilliseconds(50) };
    private ScratchDatabase _source = null!;
    private ScratchDatabase _destination = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        _source = await ScratchDatabase.CreateAsync("cdc_types_src");
        _destination = await ScratchDatabase.CreateAsync("cdc_types_dst");
        // The destination gets its types in another order, so no OID matches the source's.
        await _destination.ExecuteAsync("CREATE TYPE unrelated AS ENUM ('x'); CREATE DOMAIN unrelated_d AS bigint;");
        await _source.ExecuteAsync(Types + $"CREATE TABLE film {Film};" + """
            INSERT INTO film (film_id, title, release_year, rating, past_ratings, rerelease_years, special_features, fulltext,
                              lead_credit, credits, showing, runtime, extra, poster, rental_rate)
            SELECT g, 'FILM ' || g, 1901 + g % 200, (enum_range(NULL::mpaa_rating))[1 + g % 5],
                   CASE WHEN g % 7 = 0 THEN NULL WHEN g % 5 = 0 THEN '{}' ELSE ARRAY['PG', 'R']::mpaa_rating[] END,
                   ARRAY[2000 + g % 50, 1990]::year[],
                   CASE WHEN g % 3 = 0 THEN '{Trailers,"Deleted Scenes"}' ELSE '{{Commentaries,"Behind the Scenes"},{a,NULL}}' END::text[],
                   to_tsvector('english', 'A thoughtful drama of a dog and a ' || g || ' mad scientists'),
                   ROW('director', 'Person ' || g, g, 'PG-13')::film_credit,
                   ARRAY[ROW('actor', 'A "quoted", name', 1, 'R')::film_credit, NULL],
                   tstzrange('2024-01-01 00:00+00'::timestamptz + g * interval '1 hour', NULL, '[)'),
                   int4range(80 + g % 60, 200), json_build_object('n', g, 'tags', json_build_array('a', g)),
                   decode(md5(g::text), 'hex'), (g % 5) + 0.99
            FROM generate_series(1, 500) g;
            INSERT INTO film (film_id, title) VALUES (501, 'ALL NULL');
            """);
        await _destination.ExecuteAsync(Types + $"CREATE TABLE film_copy {Film};");
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
    public async Task A_film_table_of_domains_enums_arrays_composites_ranges_tsvector_json_and_bytea_is_copied_and_streamed_equal()
    {
        var job = Job("cdc_film_" + Guid.NewGuid().ToString("N")[..8]);
        var snapshot = await RunAsync(job, after: null);
        var copied = (Source: await DigestAsync(_source, "film"), Destination: await DigestAsync(_destination, "film_copy"));

        await _source.ExecuteAsync("""
            INSERT INTO film (film_id, title, release_year, rating, past_ratings, rerelease_years, special_features, fulltext, lead_credit, credits, showing, runtime, extra, poster, rental_rate)
            VALUES (600, 'NEW FILM', 2006, 'NC-17', '{G,NC-17}', '{2007}', '{"Deleted Scenes"}', 'new:1 film:2'::tsvector,
                    ROW('writer', 'Nobody', 3, NULL), '{}', '[2025-01-01,2025-02-01)', 'empty', '[1,2,3]', '\x00ff', 12.5);
            UPDATE film SET rating = 'R', release_year = 2155, past_ratings = past_ratings || 'NC-17'::mpaa_rating,
                            rerelease_years = '{1901}', special_features = '{}', fulltext = to_tsvector('english', 'changed ' || film_id),
                            lead_credit = ROW('producer', NULL, NULL, 'G'), credits = NULL, showing = '(,)', runtime = int4range(1, 2, '[]'),
                            extra = '{"changed": true}', poster = '\x', rental_rate = NULL, title = 'UPDATED ' || film_id
                WHERE film_id % 10 = 1;
            UPDATE film SET release_year = NULL, rating = NULL, fulltext = NULL, lead_credit = NULL WHERE film_id = 501;
            DELETE FROM film WHERE film_id % 10 = 2;
            """);
        var streamed = await RunAsync(job, snapshot.High);

        Assert.Equal(copied.Source, copied.Destination);
        Assert.Equal(501, snapshot.Rows);
        Assert.Equal(1 + 50 + 1 + 50, streamed.Rows);
        Assert.Equal(await DigestAsync(_source, "film"), await DigestAsync(_destination, "film_copy"));
    }

    [Fact]
    public async Task With_replica_identity_full_a_large_unchanged_value_carried_as_text_comes_from_the_old_row()
    {
        await _source.ExecuteAsync("ALTER TABLE film REPLICA IDENTITY FULL");
        var job = Job("cdc_film_full_" + Guid.NewGuid().ToString("N")[..8]);
        var snapshot = await RunAsync(job, after: null);

        // A tsvector of over 2,000 distinct lexemes is stored out of line (TOASTed); the next update leaves it out of the new row.
        await _source.ExecuteAsync("""
            UPDATE film SET fulltext = (SELECT to_tsvector('simple', string_agg(md5(g::text || film_id), ' ')) FROM generate_series(1, 2000) g),
                            lead_credit = ROW('large', repeat('x', 5000), 1, 'R') WHERE film_id IN (3, 4);
            """);
        await _source.ExecuteAsync("""
            BEGIN;
            UPDATE film SET rating = 'NC-17', title = 'TOAST KEPT ' || film_id WHERE film_id IN (3, 4);
            DELETE FROM film WHERE film_id = 5;
            UPDATE film SET film_id = 1005, runtime = int4range(7, 9) WHERE film_id = 6;
            COMMIT;
            """);
        await RunAsync(job, snapshot.High);

        const string Large = "SELECT length(fulltext) FROM {0} WHERE film_id = 3 AND rating = 'NC-17'";
        Assert.True((int)(await _source.ScalarAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Large, "film")))! > 2000);
        Assert.Equal(await _source.ScalarAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Large, "film")), await _destination.ScalarAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Large, "film_copy")));
        Assert.Equal(await DigestAsync(_source, "film"), await DigestAsync(_destination, "film_copy"));
    }

    [Fact]
    public async Task A_large_unchanged_value_carried_as_text_is_left_out_and_the_destination_keeps_it()
    {
        // Stored out of line before the copy, so the destination has it; the default replica identity leaves it out of the update below.
        await _source.ExecuteAsync("""
            UPDATE film SET fulltext = (SELECT to_tsvector('simple', string_agg(md5(g::text || film_id), ' ')) FROM generate_series(1, 2000) g) WHERE film_id IN (3, 4);
            """);
        var job = Job("cdc_film_toast_" + Guid.NewGuid().ToString("N")[..8]);
        var snapshot = await RunAsync(job, after: null);

        // One transaction: rows whose text-carried values wait for the commit, with and without the large value.
        await _source.ExecuteAsync("""
            BEGIN;
            UPDATE film SET rating = 'NC-17', runtime = int4range(7, 9), lead_credit = ROW('kept', 'toast', 1, 'R') WHERE film_id IN (3, 4);
            UPDATE film SET fulltext = 'short:1'::tsvector, runtime = int4range(1, 3) WHERE film_id = 7;
            COMMIT;
            """);
        await RunAsync(job, snapshot.High);

        const string Large = "SELECT length(fulltext) FROM {0} WHERE film_id = 4 AND rating = 'NC-17'";
        Assert.True((int)(await _source.ScalarAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Large, "film")))! > 2000);
        Assert.Equal(await DigestAsync(_source, "film"), await DigestAsync(_destination, "film_copy"));
    }

    private async Task<(long Rows, CursorPosition? High)> RunAsync(JobSpec job, CursorPosition? after)
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

    private static async Task<string> DigestAsync(ScratchDatabase database, string table) =>
        (string)(await database.ScalarAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Digest, table)))!;

    private static JobSpec Job(string name)
    {
        var result = JobFile.Parse(
            $"""
            name: {name}
            schedule: continuous
            batch_size: 100
            source:
              type: postgres
              connection: source
              table: public.film
              mode: cdc
              primary_key: [film_id]
            destination:
              type: postgres
              connection: destination
              table: public.film_copy
              deletes: delete
            """,
            "cdc.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }
}
