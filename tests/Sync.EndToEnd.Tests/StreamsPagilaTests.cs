using System.Net;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// The "done when" of issue 18, item 1: one job file by cursor and one cdc job file, both with
/// <c>streams: [public.*]</c>, follow every table of a Pagila-like schema (foreign keys, a domain, an
/// enum, arrays, a tsvector, a partitioned table) into an empty destination database, each into a
/// schema of its own, the tables made by Sync; each destination table equals its source. The cdc job
/// reads every table through one replication slot and one publication, follows deletes, a payment
/// moved across partitions and a column added mid-stream, and on reload copies a stream added to
/// the file (while it is written to) and lets go of one removed.
/// </summary>
public sealed class StreamsPagilaTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string CdcJob = """
        name: bycdc
        mode: cdc
        schedule: continuous
        batch_size: 500
        source: { type: postgres, connection: source }
        destination: { type: postgres, connection: destination, schema: bycdc }
        streams: [public.*]
        exclude: [public.{0}]
        """;

    private static readonly string[] AllTables = [.. CdcPagilaTests.Digests.Select(d => d.Table)];

    [Fact]
    public async Task One_cursor_job_and_one_cdc_job_follow_every_table_of_a_schema_into_an_empty_destination()
    {
        await using var sync = await CdcDeployment.CreateAsync("streamspagila");
        try
        {
            await OrdersTable.ExecuteAsync(sync.Source, CdcPagilaTests.Types + CdcPagilaTests.TablesWith("serial", source: true) + CdcPagilaTests.Seed);
            sync.WriteJob("bycursor.yml", """
                name: bycursor
                source: { type: postgres, connection: source, cursor: last_update }
                destination: { type: postgres, connection: destination, schema: bycursor }
                streams:
                  - public.*
                  - { table: public.payment, cursor: payment_date }
                """);
            sync.WriteJob("bycdc.yml", CdcJob.Replace("{0}", "film_actor", StringComparison.Ordinal));
            await sync.StartAsync();

            var runs = await RunStreamsAsync(sync, "bycursor");
            Assert.Equal(AllTables.Select(t => $"bycursor.{t}").Order(StringComparer.Ordinal), runs.Keys.Order(StringComparer.Ordinal));
            Assert.All(runs.Values, run => Assert.True(run.State == "Completed", $"{run.JobName}: {run.FailureReason}"));
            await sync.WaitForEqualAsync("the cursor job's run", await ComparisonsAsync(sync, "bycursor", AllTables));
            // Verify of the streams job as a whole verifies every stream (issue 18).
            using (var verify = await sync.Http.PostAsync("/api/jobs/bycursor/verify", content: null))
            {
                var body = await verify.Content.ReadAsStringAsync();
                Assert.True(verify.IsSuccessStatusCode, $"{(int)verify.StatusCode}: {body}");
                var verified = JsonSerializer.Deserialize<StreamsVerified>(body, Json)!;
                Assert.Equal((0, "Equal"), (verified.ExitCode, verified.Outcome));
                Assert.Equal(AllTables.Select(t => $"bycursor.{t}").Order(StringComparer.Ordinal), verified.Streams.Select(s => s.JobName).Order(StringComparer.Ordinal));
                Assert.All(verified.Streams, s => Assert.True(s.Outcome == "Equal", $"{s.JobName}: {s.Outcome} {s.Reason}"));
            }

            var followed = AllTables.Where(t => t != "film_actor").ToArray();
            await sync.WaitForEqualAsync("the cdc job's first copy", await ComparisonsAsync(sync, "bycdc", followed));
            Assert.Equal(1L, await OrdersTable.ScalarAsync(sync.Source, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()"));
            Assert.Equal(followed.Order(StringComparer.Ordinal), await PublishedAsync(sync));
            // A cdc streams run's counts are kept per stream: its first copy loaded every followed table's rows.
            var (copied, copyRun) = await StreamRowsAsync(sync, "bycdc", "bycdc.rental");
            Assert.Equal(followed.Select(t => $"bycdc.{t}").Order(StringComparer.Ordinal), copied.Where(c => c.Value > 0).Select(c => c.Key).Order(StringComparer.Ordinal));
            Assert.Equal(4000L, copied["bycdc.rental"]);
            var (showCode, shown) = await sync.CliAsync(null, "run", "show", copyRun.ToString());
            Assert.True(showCode == 0 && shown.Contains("stream bycdc.rental", StringComparison.Ordinal), shown);

            await OrdersTable.ExecuteAsync(sync.Source, """
                DELETE FROM film_actor WHERE film_id IN (SELECT film_id FROM film WHERE film_id % 97 = 0);
                DELETE FROM film WHERE film_id % 97 = 0;
                UPDATE film SET rating = 'NC-17', special_features = ARRAY['Commentaries'], release_year = 2001 WHERE film_id % 50 = 1;
                UPDATE payment SET payment_date = payment_date + interval '1 month' WHERE payment_id % 40 = 0 AND payment_date < '2022-05-01 00:00:00+00';
                DELETE FROM payment WHERE payment_id % 45 = 0;
                INSERT INTO category (name) VALUES ('Streamed');
                ALTER TABLE actor ADD COLUMN nickname text;
                INSERT INTO actor (first_name, last_name, nickname) SELECT 'NEW', 'ACTOR ' || g, 'nick ' || g FROM generate_series(1, 30) g;
                UPDATE actor SET nickname = 'renamed', last_update = clock_timestamp() WHERE actor_id % 20 = 0;
                """);
            await sync.WaitForEqualAsync("deletes, a moved payment and a column added mid-stream", await ComparisonsAsync(sync, "bycdc", followed));
            // The new column's values arrived: 30 new actors, and 10 of the 200 before it renamed.
            Assert.Equal(40L, await OrdersTable.ScalarAsync(sync.Destination, "SELECT count(*) FROM bycdc.actor WHERE nickname IS NOT NULL"));

            // film_actor joins the streams and language leaves them; film_actor is written to while it is copied.
            var language = await OrdersTable.ScalarAsync(sync.Destination, CdcDeployment.Digest("bycdc.language"));
            sync.WriteJob("bycdc.yml", CdcJob.Replace("{0}", "language", StringComparison.Ordinal));
            using (var reload = await sync.Http.PostAsync("/api/jobs/reload", content: null))
            {
                Assert.True(reload.IsSuccessStatusCode, await reload.Content.ReadAsStringAsync());
            }

            for (var i = 0; i < 40; i++)
            {
                await OrdersTable.ExecuteAsync(sync.Source, $"""
                    INSERT INTO film_actor (actor_id, film_id) VALUES (1 + {i} % 200, 1 + ({i} * 37) % 1000) ON CONFLICT DO NOTHING;
                    DELETE FROM film_actor WHERE (actor_id, film_id) IN (SELECT actor_id, film_id FROM film_actor WHERE film_id = 2 + {i} * 11);
                    UPDATE film_actor SET last_update = clock_timestamp() WHERE film_id = 3 + {i} * 13;
                    """);
                await Task.Delay(150);
            }

            await OrdersTable.ExecuteAsync(sync.Source, "UPDATE language SET name = 'Gone' WHERE language_id = 1; INSERT INTO category (name) VALUES ('After the reload')");
            var nowFollowed = AllTables.Where(t => t != "language").ToArray();
            await sync.WaitForEqualAsync("film_actor added and language removed", await ComparisonsAsync(sync, "bycdc", nowFollowed));
            Assert.Equal(nowFollowed.Order(StringComparer.Ordinal), await PublishedAsync(sync));

            // The added stream is followed after its copy, not only copied.
            await OrdersTable.ExecuteAsync(sync.Source, """
                DELETE FROM film_actor WHERE film_id % 10 = 5;
                INSERT INTO film_actor (actor_id, film_id) SELECT a, 999 FROM generate_series(150, 170) a ON CONFLICT DO NOTHING;
                """);
            await sync.WaitForEqualAsync("changes to the added stream after its copy", await ComparisonsAsync(sync, "bycdc", ["film_actor"]));
            Assert.Equal(language, await OrdersTable.ScalarAsync(sync.Destination, CdcDeployment.Digest("bycdc.language")));
            Assert.Equal(1L, await OrdersTable.ScalarAsync(sync.Source, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database() AND NOT temporary"));

            // A cdc streams job's streams are verified each against its source table, a differing key
            // judged at a consistent point through the job's one slot; a cdc stream is not repaired by key.
            await OrdersTable.ExecuteAsync(sync.Destination, "DELETE FROM bycdc.category WHERE category_id = (SELECT min(category_id) FROM bycdc.category)");
            var (verifyCode, verifyOutput) = await sync.CliAsync(null, "verify", "bycdc", "--repair");
            Assert.True(verifyCode == 1, verifyOutput);
            Assert.Contains("bycdc.category: different", verifyOutput, StringComparison.Ordinal);
            Assert.Contains("missing    (", verifyOutput, StringComparison.Ordinal);
            Assert.Contains("not repaired: a cdc stream is not repaired by key", verifyOutput, StringComparison.Ordinal);
            Assert.All(nowFollowed.Where(t => t != "category"), t => Assert.Contains($"bycdc.{t}: equal", verifyOutput, StringComparison.Ordinal));
            Assert.Contains("bycdc: different", verifyOutput, StringComparison.Ordinal);
        }
        finally
        {
            await sync.ReleaseCdcSlotsAsync();
        }
    }

    // Rows compared as the source's columns in the source's order: a table Sync makes puts the key first.
    private static async Task<DigestComparison[]> ComparisonsAsync(SyncDeployment sync, string schema, IEnumerable<string> tables)
    {
        var comparisons = new List<DigestComparison>();
        foreach (var (table, key) in CdcPagilaTests.Digests.Where(d => tables.Contains(d.Table)))
        {
            var columns = (string)(await OrdersTable.ScalarAsync(
                sync.Source,
                "SELECT string_agg('t.' || quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute WHERE attrelid = ('public.' || $1)::regclass AND attnum > 0 AND NOT attisdropped",
                table))!;
            var order = string.Join(", ", key.Split(", ").Select(k => $"t.\"{k}\""));
            comparisons.Add(new DigestComparison(
                $"{schema}.{table}", CdcDeployment.Digest($"public.\"{table}\"", order, $"({columns})"), CdcDeployment.Digest($"{schema}.\"{table}\"", order, $"({columns})")));
        }

        return [.. comparisons];
    }

    private static async Task<string[]> PublishedAsync(SyncDeployment sync)
    {
        var tables = (string)(await OrdersTable.ScalarAsync(sync.Source, """
            SELECT string_agg(c.relname, ',' ORDER BY c.relname)
            FROM pg_publication p JOIN pg_publication_rel r ON r.prpubid = p.oid JOIN pg_class c ON c.oid = r.prrelid
            WHERE p.pubname = 'sync_bycdc'
            """))!;
        return tables.Split(',');
    }

    // One start of a streams job by cursor starts one run per stream; each is followed to its end.
    private static async Task<Dictionary<string, RunResult>> RunStreamsAsync(SyncDeployment sync, string job)
    {
        using var response = await sync.Http.PostAsync($"/api/jobs/{job}/runs", content: null);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{(int)response.StatusCode}: {body}\n{sync.Logs()}");
        var started = JsonSerializer.Deserialize<StreamRuns>(body, Json)!;
        var runs = new Dictionary<string, RunResult>(StringComparer.Ordinal);
        foreach (var run in started.Runs)
        {
            runs[run.JobName] = await sync.WaitForRunAsync(run.RunId);
        }

        return runs;
    }

    // Rows loaded per stream over a job's runs (GET /api/runs/{id} of each), and a run that loaded the given stream.
    private static async Task<(Dictionary<string, long> Rows, Guid RunOf)> StreamRowsAsync(SyncDeployment sync, string job, string stream)
    {
        var rows = new Dictionary<string, long>(StringComparer.Ordinal);
        var runOf = Guid.Empty;
        foreach (var listed in JsonSerializer.Deserialize<List<RunCounts>>(await sync.Http.GetStringAsync($"/api/jobs/{job}/runs?limit=500"), Json)!)
        {
            var run = JsonSerializer.Deserialize<RunCounts>(await sync.Http.GetStringAsync($"/api/runs/{listed.RunId}"), Json)!;
            foreach (var counts in run.Streams ?? [])
            {
                rows[counts.Stream] = rows.GetValueOrDefault(counts.Stream) + counts.Rows;
                runOf = counts.Stream == stream && counts.Rows > 0 ? run.RunId : runOf;
            }
        }

        return (rows, runOf);
    }

    private sealed record RunCounts(Guid RunId, List<StreamCounts>? Streams);

    private sealed record StreamCounts(string Stream, long Rows);

    private sealed record StreamsVerified(string JobName, string Outcome, int ExitCode, List<StreamVerified> Streams);

    private sealed record StreamVerified(string JobName, string Outcome, string? Reason);

    private sealed record StreamRuns(string JobName, List<RunStartedResult> Runs, List<string> StillActive);
}
