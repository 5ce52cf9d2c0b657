using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// A cdc job follows a Pagila-like film table through the four services (issue 14, item 1): a domain,
/// an enum, arrays of both, text[], tsvector, a composite, a range, json and bytea, copied and then
/// streamed into a destination whose types have other OIDs. Before, the run was refused ("has a type
/// … that mode: cdc cannot carry").
/// </summary>
public sealed class CdcColumnTypeTests : IAsyncLifetime
{
    private const string Types = """
        CREATE DOMAIN year AS integer CONSTRAINT year_check CHECK (VALUE >= 1901 AND VALUE <= 2155);
        CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R', 'NC-17');
        CREATE TYPE film_credit AS (role text, person text, rating mpaa_rating);
        """;

    private const string Film = """
        (film_id integer PRIMARY KEY, title text NOT NULL, release_year year, rating mpaa_rating DEFAULT 'G',
         past_ratings mpaa_rating[], rerelease_years year[], special_features text[], fulltext tsvector,
         lead_credit film_credit, runtime int4range, extra json, poster bytea, last_update timestamptz NOT NULL DEFAULT now())
        """;

    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await CdcDeployment.CreateAsync("cdctypes");
        // The destination gets its types after another, so no OID matches the source's.
        await OrdersTable.ExecuteAsync(_sync.Destination, "CREATE TYPE unrelated AS ENUM ('x');" + Types + $"CREATE TABLE film_copy {Film};");
        await OrdersTable.ExecuteAsync(_sync.Source, Types + $"CREATE TABLE film {Film};" + """
            INSERT INTO film (film_id, title, release_year, rating, past_ratings, rerelease_years, special_features, fulltext, lead_credit, runtime, extra, poster)
            SELECT g, 'FILM ' || g, 1901 + g % 200, (enum_range(NULL::mpaa_rating))[1 + g % 5],
                   CASE WHEN g % 7 = 0 THEN NULL ELSE ARRAY['PG', 'R']::mpaa_rating[] END, ARRAY[2000 + g % 50]::year[],
                   '{Trailers,"Deleted Scenes"}', to_tsvector('english', 'A thoughtful drama of a dog and ' || g || ' mad scientists'),
                   ROW('director', 'Person ' || g, 'PG-13')::film_credit, int4range(80 + g % 60, 200),
                   json_build_object('n', g), decode(md5(g::text), 'hex')
            FROM generate_series(1, 1000) g;
            """);
        _sync.WriteCdcJob("film.yml", "film-types", "film", "film_copy", key: "film_id", destination: ", deletes: delete");
        await _sync.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await using (_sync)
        {
            await _sync.ReleaseCdcSlotsAsync();
        }
    }

    [Fact]
    public async Task A_film_table_of_domains_enums_arrays_tsvector_a_composite_a_range_json_and_bytea_is_copied_and_streamed_equal()
    {
        await WaitForEqualAsync();

        await OrdersTable.ExecuteAsync(_sync.Source, """
            INSERT INTO film (film_id, title, release_year, rating, past_ratings, rerelease_years, fulltext, lead_credit, runtime, extra, poster)
            VALUES (1001, 'NEW FILM', 2006, 'NC-17', '{G,NC-17}', '{2007}', 'new:1 film:2', ROW('writer', NULL, 'G'), 'empty', '[1, 2]', '\x00ff');
            UPDATE film SET rating = 'R', release_year = 2155, past_ratings = '{NC-17}', rerelease_years = '{}', special_features = NULL,
                            fulltext = to_tsvector('english', 'changed ' || film_id), lead_credit = ROW('producer', 'Someone', NULL),
                            runtime = int4range(1, 2, '[]'), extra = '{"changed": true}', poster = NULL
                WHERE film_id % 10 = 1;
            DELETE FROM film WHERE film_id % 10 = 2;
            """);

        await WaitForEqualAsync();
        Assert.Equal(0L, Convert.ToInt64(await OrdersTable.ScalarAsync(_sync.Destination, "SELECT count(*) FROM film_copy WHERE film_id % 10 = 2")));
    }

    private Task WaitForEqualAsync() =>
        _sync.WaitForEqualAsync("the copy and the changes", [DigestComparison.Tables("film", "film_copy", order: "t.film_id")]);
}
