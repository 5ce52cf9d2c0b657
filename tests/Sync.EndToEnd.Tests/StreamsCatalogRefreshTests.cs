using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Issue 18, operational gaps: a continuous cdc streams job on <c>public.*</c> picks up a table
/// created after it was loaded without a reload or a restart. The Coordinator resolves the patterns
/// against the source catalog again every <c>Coordinator__StreamsRefreshInterval</c>; the new table
/// becomes a stream as one added to the file does (published, copied alone in a temporary slot's
/// snapshot, then followed), and rows written while it is copied arrive too. A dropped table leaves
/// the streams likewise, and the job goes on with the others.
/// </summary>
public sealed class StreamsCatalogRefreshTests
{
    private const string Order = "t.id";

    [Fact]
    public async Task A_table_created_while_a_continuous_cdc_streams_job_runs_joins_it_without_a_reload()
    {
        await using var sync = await CdcDeployment.CreateAsync("streamsrefresh");
        sync.SetEnvironment("Coordinator__StreamsRefreshInterval", "00:00:02");
        try
        {
            await OrdersTable.ExecuteAsync(sync.Source, """
                CREATE TABLE public.early (id bigint PRIMARY KEY, note text NOT NULL, qty integer NOT NULL);
                INSERT INTO public.early SELECT g, 'early ' || g, g FROM generate_series(1, 300) g;
                """);
            sync.WriteJob("follow.yml", """
                name: follow
                mode: cdc
                schedule: continuous
                batch_size: 100
                source: { type: postgres, connection: source }
                destination: { type: postgres, connection: destination }
                streams: [public.*]
                """);
            await sync.StartAsync();
            await sync.WaitForEqualAsync("the first copy", [DigestComparison.Table("public.early", Order)]);

            // Created mid-run, after the job was resolved, and written to before, while and after it is copied.
            await OrdersTable.ExecuteAsync(sync.Source, """
                CREATE TABLE public.late (id bigint PRIMARY KEY, note text NOT NULL, qty integer NOT NULL);
                INSERT INTO public.late SELECT g, 'late ' || g, g FROM generate_series(1, 2000) g;
                """);
            for (var i = 0; i < 40; i++)
            {
                await OrdersTable.ExecuteAsync(sync.Source, $"""
                    INSERT INTO public.late VALUES (3000 + {i}, 'written {i}', {i});
                    UPDATE public.late SET qty = qty + 1000, note = 'changed {i}' WHERE id % 40 = {i};
                    DELETE FROM public.late WHERE id = 1 + {i} * 37;
                    UPDATE public.early SET qty = qty + 1 WHERE id = 1 + {i};
                    """);
                await Task.Delay(150);
            }

            await sync.WaitForEqualAsync("a table created mid-run", [DigestComparison.Table("public.late", Order), DigestComparison.Table("public.early", Order)]);

            // Followed after its copy, not only copied.
            await OrdersTable.ExecuteAsync(sync.Source, "DELETE FROM public.late WHERE id % 10 = 3; INSERT INTO public.late VALUES (9000, 'after the copy', 1)");
            await sync.WaitForEqualAsync("changes after the copy", [DigestComparison.Table("public.late", Order)]);

            // A dropped table leaves the streams at the next resolution; the others go on. Its destination table stays.
            var early = await OrdersTable.ScalarAsync(sync.Destination, CdcDeployment.Digest("public.early", Order));
            await OrdersTable.ExecuteAsync(sync.Source, "DROP TABLE public.early");
            for (var i = 0; i < 10; i++)
            {
                await OrdersTable.ExecuteAsync(sync.Source, $"UPDATE public.late SET note = 'after the drop {i}' WHERE id % 10 = {i}");
                await Task.Delay(500);
            }

            await sync.WaitForEqualAsync("changes after a followed table was dropped", [DigestComparison.Table("public.late", Order)]);
            Assert.Equal(early, await OrdersTable.ScalarAsync(sync.Destination, CdcDeployment.Digest("public.early", Order)));
            Assert.Equal(1L, await OrdersTable.ScalarAsync(sync.Source, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database() AND NOT temporary"));

            // syncctl runs lists each run's counts per stream, as syncctl run show does: the run that copied
            // the new table shows it with its rows (issue 18).
            var (runsCode, runs) = await sync.CliAsync(null, "runs", "follow", "--limit", "500");
            Assert.True(runsCode == 0, runs);
            Assert.Contains("  stream follow.late  batches ", runs, StringComparison.Ordinal);
            Assert.Contains("  stream follow.early  batches ", runs, StringComparison.Ordinal);
            var (jsonCode, json) = await sync.CliAsync(null, "runs", "follow", "--limit", "500", "--json");
            Assert.True(jsonCode == 0, json);
            var copied = JsonDocument.Parse(json).RootElement.EnumerateArray()
                .Where(r => r.TryGetProperty("streams", out var streams) && streams.ValueKind == JsonValueKind.Array)
                .SelectMany(r => r.GetProperty("streams").EnumerateArray())
                .Where(s => s.GetProperty("stream").GetString() == "follow.late")
                .Sum(s => s.GetProperty("rows").GetInt64());
            Assert.True(copied >= 2000, $"rows of follow.late over the listed runs: {copied}\n{runs}");
        }
        finally
        {
            await sync.ReleaseCdcSlotsAsync();
        }
    }
}
