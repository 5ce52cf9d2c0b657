using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Issue 14, item 4, through the four services: changes that used to fail every later run are carried
/// and the job goes on. An update that leaves a large (TOASTed) value unchanged keeps the destination's
/// value; columns added and a type changed while older changes are unread; a generated column left to
/// the destination; a TRUNCATE applied or ignored as <c>destination.truncate</c> says; and a TRUNCATE
/// of one partition, which the destination cannot apply as a change: the job copies the table again
/// by itself and sweeps the rows the source no longer has, never losing another partition's rows.
/// </summary>
public sealed class CdcChangeKindsTests(CdcChangeKindsFixture fixture) : IClassFixture<CdcChangeKindsFixture>
{
    private SyncDeployment Sync => fixture.Deployment;

    [Fact]
    public async Task An_update_that_leaves_a_large_value_unchanged_keeps_the_destinations_value()
    {
        await fixture.WaitForEqualAsync("docs");
        // The premise: the values are stored out of line (TOAST), so pgoutput leaves them out of an update that does not change them.
        Assert.True(Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Source, "SELECT min(pg_column_size(body)) FROM docs")) > 2000);

        await fixture.InTransactionsAsync(
            "UPDATE docs SET qty = qty + 1000 WHERE id <= 10",
            $"""
            BEGIN;
            UPDATE docs SET qty = -1 WHERE id = 11;
            UPDATE docs SET body = {CdcChangeKindsFixture.Large("'changed'")} WHERE id = 12;
            INSERT INTO docs VALUES (51, 51, {CdcChangeKindsFixture.Large("'new'")});
            UPDATE docs SET qty = 5151 WHERE id = 51;
            UPDATE docs SET qty = 1212 WHERE id = 12;
            COMMIT;
            """,
            "UPDATE docs SET qty = 0 WHERE id = 13",
            "DELETE FROM docs WHERE id = 14");
        await fixture.WaitForEqualAsync("docs");
        Assert.Equal(10L, Convert.ToInt64(await OrdersTable.ScalarAsync(Sync.Destination, "SELECT count(*) FROM docs WHERE id <= 10 AND qty > 1000 AND length(body) = 9600")));

        // The job goes on: a later change arrives.
        await OrdersTable.ExecuteAsync(Sync.Source, "UPDATE docs SET qty = 7 WHERE id = 20; INSERT INTO docs VALUES (52, 52, 'small')");
        await fixture.WaitForEqualAsync("docs");
    }

    [Fact]
    public async Task Columns_added_and_a_type_changed_while_older_changes_are_unread_reach_the_destination_and_the_job_goes_on()
    {
        const string job = "wide";
        await fixture.WaitForEqualAsync("wide");
        await fixture.PauseAsync(job);

        // Changes before and after each ALTER, all unread when the job resumes. The destination gets
        // note2 and the type first; extra it never gets by hand: the Loader adds it (destination.schema: evolve).
        await OrdersTable.ExecuteAsync(Sync.Destination, "ALTER TABLE wide ADD COLUMN note2 text; ALTER TABLE wide ALTER COLUMN qty TYPE bigint");
        await fixture.InTransactionsAsync(
            "UPDATE wide SET qty = qty + 100 WHERE id <= 5",
            "INSERT INTO wide VALUES (21, 21, 'before')",
            "DELETE FROM wide WHERE id = 6",
            "ALTER TABLE wide ADD COLUMN note2 text, ADD COLUMN extra integer",
            "INSERT INTO wide VALUES (22, 22, 'after', 'second', 7)",
            "UPDATE wide SET note2 = 'set', extra = 1 WHERE id IN (1, 7)",
            "ALTER TABLE wide ALTER COLUMN qty TYPE bigint",
            "UPDATE wide SET qty = 5000000000 + id WHERE id IN (2, 8, 22)",
            "INSERT INTO wide VALUES (23, 5000000023, 'last', 'third', 9)");
        await fixture.ResumeAsync(job);
        const string Carried = "(t.id, t.qty, t.note, t.note2)";
        await fixture.WaitForEqualAsync("wide", Carried);

        await OrdersTable.ExecuteAsync(Sync.Source, "UPDATE wide SET note2 = 'later', qty = 6000000000, extra = 3 WHERE id = 3");
        await fixture.WaitForEqualAsync("wide", Carried);
        Assert.Empty(await fixture.FailedRunsAsync(job));
    }

    [Fact]
    public async Task A_generated_column_is_left_to_the_destination_in_the_copy_and_the_stream()
    {
        await fixture.WaitForEqualAsync("gen");

        await OrdersTable.ExecuteAsync(Sync.Source, "UPDATE gen SET qty = qty + 100 WHERE id <= 5; INSERT INTO gen (id, qty) VALUES (21, 21); DELETE FROM gen WHERE id = 6");
        await fixture.WaitForEqualAsync("gen");

        await OrdersTable.ExecuteAsync(Sync.Source, "UPDATE gen SET qty = -1 WHERE id = 7");
        await fixture.WaitForEqualAsync("gen");
        Assert.Equal(-2, await OrdersTable.ScalarAsync(Sync.Destination, "SELECT doubled FROM gen WHERE id = 7"));
        Assert.Empty(await fixture.FailedRunsAsync("gen"));
    }

    [Theory]
    [InlineData("trunc_apply", "101:2,102:1,103:1,104:1")]
    [InlineData("trunc_ignore", "1:1,2:7,3:3,101:2,102:1,103:1,104:1")]
    public async Task A_truncate_of_the_source_table_is_applied_or_ignored_in_stream_order_and_the_job_goes_on(string table, string destination)
    {
        await fixture.WaitForEqualAsync(table);

        await fixture.InTransactionsAsync(
            $"INSERT INTO {table} VALUES (101, 1)",
            $"""
            BEGIN;
            UPDATE {table} SET qty = 7 WHERE id = 2;
            TRUNCATE {table};
            INSERT INTO {table} VALUES (102, 1);
            COMMIT;
            """,
            $"INSERT INTO {table} VALUES (103, 1)",
            $"INSERT INTO {table} VALUES (101, 2)");
        // The job goes on past the truncate: a later change arrives.
        await OrdersTable.ExecuteAsync(Sync.Source, $"INSERT INTO {table} VALUES (104, 1)");

        var rows = $"SELECT string_agg(id || ':' || qty, ',' ORDER BY id) FROM {table}";
        await fixture.WaitUntilAsync(async () => (string?)await OrdersTable.ScalarAsync(Sync.Destination, rows) == destination, table);
        if (table == "trunc_apply")
        {
            await fixture.WaitForEqualAsync(table);
        }

        Assert.Empty(await fixture.FailedRunsAsync(table.Replace('_', '-')));
    }

    [Fact]
    public async Task A_truncate_of_one_partition_copies_the_table_again_by_itself_never_losing_the_other_partitions_rows_and_the_job_goes_on()
    {
        const string job = "parts";
        await fixture.WaitForEqualAsync("parts");

        // Changes before the truncate's transaction (region 2's rows are those the truncate empties), the
        // truncate of region 2's partition amid other changes, and changes after it.
        await fixture.InTransactionsAsync(
            "INSERT INTO parts VALUES (21, 2, 21)",
            "UPDATE parts SET qty = -2 WHERE id = 2",
            "DELETE FROM parts WHERE id = 4",
            "BEGIN; UPDATE parts SET qty = -1 WHERE id = 1; UPDATE parts SET qty = -6 WHERE id = 6; TRUNCATE parts_p2; INSERT INTO parts VALUES (101, 1, 101), (103, 2, 103); COMMIT",
            "INSERT INTO parts VALUES (102, 2, 102)",
            "UPDATE parts SET qty = -8 WHERE id = 8");
        await fixture.WaitForEqualAsync("parts");

        // The job goes on by itself: a later change arrives, and no run failed.
        await OrdersTable.ExecuteAsync(Sync.Source, "INSERT INTO parts VALUES (104, 2, 104); UPDATE parts SET qty = -10 WHERE id = 10");
        await fixture.WaitForEqualAsync("parts");
        Assert.Empty(await fixture.FailedRunsAsync(job));

        // Region 1's rows were never missing from the destination: of them only the row the source
        // deleted was ever deleted there, and the destination table was never truncated.
        Assert.Equal("4", await OrdersTable.ScalarAsync(Sync.Destination, "SELECT coalesce(string_agg(coalesce(id::text, 'truncate'), ',' ORDER BY id), '') FROM parts_lost WHERE region IS NULL OR region = 1"));
    }
}

public sealed class CdcChangeKindsFixture : IAsyncLifetime
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public SyncDeployment Deployment { get; private set; } = null!;

    /// <summary>A 9,600-character value of md5 chains (incompressible enough to be stored out of line): TOASTed.</summary>
    public static string Large(string seed) => $"(SELECT string_agg(md5({seed} || i), '') FROM generate_series(1, 300) i)";

    public async Task InitializeAsync()
    {
        // Short runs, so the changes of a test span several runs and their hand-overs.
        Deployment = await CdcDeployment.CreateAsync("cdckinds");
        const string Tables = """
            CREATE TABLE docs (id bigint PRIMARY KEY, qty integer NOT NULL, body text);
            CREATE TABLE wide (id bigint PRIMARY KEY, qty integer NOT NULL, note text);
            CREATE TABLE gen (id bigint PRIMARY KEY, qty integer NOT NULL, doubled integer GENERATED ALWAYS AS (qty * 2) STORED);
            CREATE TABLE trunc_apply (id bigint PRIMARY KEY, qty integer NOT NULL);
            CREATE TABLE trunc_ignore (id bigint PRIMARY KEY, qty integer NOT NULL);
            """;
        await OrdersTable.ExecuteAsync(Deployment.Destination, Tables + """
            CREATE TABLE parts (id bigint NOT NULL, region integer NOT NULL, qty integer, PRIMARY KEY (id, region));
            CREATE TABLE parts_lost (id bigint, region integer);
            CREATE FUNCTION parts_lost() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO parts_lost VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id END, CASE WHEN TG_OP = 'DELETE' THEN OLD.region END);
                RETURN NULL;
            END $$;
            CREATE TRIGGER lost AFTER DELETE ON parts FOR EACH ROW EXECUTE FUNCTION parts_lost();
            CREATE TRIGGER emptied AFTER TRUNCATE ON parts FOR EACH STATEMENT EXECUTE FUNCTION parts_lost();
            """);
        await OrdersTable.ExecuteAsync(Deployment.Source, Tables + $"""
            CREATE TABLE parts (id bigint NOT NULL, region integer NOT NULL, qty integer, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
            CREATE TABLE parts_p1 PARTITION OF parts FOR VALUES IN (1);
            CREATE TABLE parts_p2 PARTITION OF parts FOR VALUES IN (2);
            INSERT INTO docs SELECT g, g, {Large("g::text")} FROM generate_series(1, 50) g;
            INSERT INTO wide SELECT g, g, 'row ' || g FROM generate_series(1, 20) g;
            INSERT INTO gen (id, qty) SELECT g, g FROM generate_series(1, 20) g;
            INSERT INTO trunc_apply SELECT g, g FROM generate_series(1, 3) g;
            INSERT INTO trunc_ignore SELECT g, g FROM generate_series(1, 3) g;
            INSERT INTO parts SELECT g, 1 + g % 2, g FROM generate_series(1, 20) g;
            """);
        foreach (var table in new[] { "docs", "wide", "gen", "trunc_apply" })
        {
            WriteJob(table, "apply");
        }

        WriteJob("trunc_ignore", "ignore");
        WriteJob("parts", "apply", "id, region");
        await Deployment.StartAsync();
    }

    private void WriteJob(string table, string truncate, string key = "id") =>
        Deployment.WriteCdcJob($"{table}.yml", table.Replace('_', '-'), table, key: key, batchSize: 100, destination: $", key: [{key}], deletes: delete, truncate: {truncate}");

    public async Task DisposeAsync()
    {
        await using (Deployment)
        {
            await Deployment.ReleaseCdcSlotsAsync();
        }
    }

    /// <summary>Pauses a continuous job and waits until its run in flight has finished, so what the source does next stays unread.</summary>
    public async Task PauseAsync(string job)
    {
        using (var response = await Deployment.Http.PostAsync($"/api/jobs/{job}/pause", content: null))
        {
            response.EnsureSuccessStatusCode();
        }

        await WaitUntilAsync(async () => (await RunsAsync(job)).TrueForAll(r => r.IsFinished), job);
    }

    public async Task ResumeAsync(string job)
    {
        using var response = await Deployment.Http.PostAsync($"/api/jobs/{job}/resume", content: null);
        response.EnsureSuccessStatusCode();
    }

    /// <summary>Each statement (or BEGIN … COMMIT block) on the source in a transaction of its own.</summary>
    public async Task InTransactionsAsync(params string[] statements)
    {
        foreach (var statement in statements)
        {
            await OrdersTable.ExecuteAsync(Deployment.Source, statement);
        }
    }

    public async Task<List<RunResult>> FailedRunsAsync(string job) => (await RunsAsync(job)).FindAll(r => r.State == "Failed");

    public async Task<RunResult> WaitForFailedRunAsync(string job)
    {
        RunResult? failed = null;
        await WaitUntilAsync(async () => (failed = (await FailedRunsAsync(job)).FirstOrDefault()) is not null, job);
        return failed!;
    }

    // The reasons the job's runs failed for, to say why a wait timed out (the services' log tails may no longer hold them).
    private async Task<string> FailuresAsync(string job) =>
        string.Concat((await FailedRunsAsync(job)).Select(r => r.FailureReason).Distinct().Select(reason => $"\nA run failed: {reason}"));

    private async Task<List<RunResult>> RunsAsync(string job) =>
        (await Deployment.Http.GetFromJsonAsync<List<RunResult>>($"/api/jobs/{job}/runs?limit=500", Json))!;

    /// <summary>Waits until every row of the table (<paramref name="row"/>: every column's text, or the columns listed) is the same on both sides.</summary>
    public Task WaitForEqualAsync(string table, string row = "t") =>
        Deployment.WaitForEqualAsync(table, [DigestComparison.Table(table, $"{row}::text", row)], diagnostics: () => FailuresAsync(table.Replace('_', '-')));

    public Task WaitUntilAsync(Func<Task<bool>> condition, string what) =>
        Deployment.WaitUntilAsync(condition, what, () => FailuresAsync(what.Replace('_', '-')));
}
