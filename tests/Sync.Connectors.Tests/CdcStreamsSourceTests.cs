using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NpgsqlTypes;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Cdc;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// A cdc job with streams (one slot and one publication for several tables) against real PostgreSQL:
/// a TRUNCATE of one partition of one stream's table makes the job copy that table again by itself,
/// while the other tables lose no change, and the next runs pass over the truncate instead of meeting
/// it again (issue 14, item 4; issue 18). A stream added again is copied as a refresh.
/// </summary>
public sealed class CdcStreamsSourceTests : IAsyncLifetime
{
    private const string Payments = "SELECT coalesce(string_agg(id || ':' || region || ':' || qty, ',' ORDER BY id, region), '') FROM {0}";
    private const string Customers = "SELECT coalesce(string_agg(id || ':' || qty, ',' ORDER BY id), '') FROM {0}";

    private readonly CdcOptions _options = new() { RunDuration = TimeSpan.FromSeconds(3), IdleEnd = TimeSpan.FromMilliseconds(300), FlushInterval = TimeSpan.FromMilliseconds(50) };
    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        // Region 2 of payments (odd ids) is never truncated: a trigger records every row of it the destination ever loses, and any TRUNCATE of the destination.
        _scratch = await ScratchDatabase.CreateAsync("cdc_streams");
        await _scratch.ExecuteAsync("""
            CREATE TABLE payments (id bigint NOT NULL, region integer NOT NULL, qty integer, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
            CREATE TABLE payments_p1 PARTITION OF payments FOR VALUES IN (1);
            CREATE TABLE payments_p2 PARTITION OF payments FOR VALUES IN (2);
            CREATE TABLE customers (id bigint PRIMARY KEY, qty integer NOT NULL);
            CREATE TABLE payments_copy (id bigint NOT NULL, region integer NOT NULL, qty integer, PRIMARY KEY (id, region));
            CREATE TABLE customers_copy (id bigint PRIMARY KEY, qty integer NOT NULL);
            CREATE TABLE payments_lost (id bigint, region integer);
            CREATE FUNCTION payments_lost() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO payments_lost VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id END, CASE WHEN TG_OP = 'DELETE' THEN OLD.region END);
                RETURN NULL;
            END $$;
            CREATE TRIGGER lost AFTER DELETE ON payments_copy FOR EACH ROW EXECUTE FUNCTION payments_lost();
            CREATE TRIGGER emptied AFTER TRUNCATE ON payments_copy FOR EACH STATEMENT EXECUTE FUNCTION payments_lost();
            INSERT INTO payments SELECT g, 1 + g % 2, g FROM generate_series(1, 30) g;
            INSERT INTO customers SELECT g, g FROM generate_series(1, 10) g;
            """);
        _connections = _scratch.Catalog("source", "destination");
        _resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
    }

    public async Task DisposeAsync()
    {
        // DROP DATABASE drops the database's replication slots too; every run here has ended its reader.
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task A_truncate_of_one_partition_copies_that_table_again_the_other_tables_lose_no_change_and_later_runs_pass_over_it()
    {
        var job = Job("cdc_streams_" + Suffix(), "customers", "payments");
        var snapshot = (await ExtractAsync(job, after: null)).High;
        // Each in a transaction of its own; the truncate's transaction (of region 1, the even ids) also
        // changes the other table, and so do those after it.
        foreach (var statement in new[]
        {
            "INSERT INTO payments VALUES (31, 2, 31)",
            "UPDATE customers SET qty = -1 WHERE id = 1",
            "DELETE FROM payments WHERE id = 3",
            "BEGIN; UPDATE customers SET qty = -2 WHERE id = 2; UPDATE payments SET qty = -1 WHERE id = 1; TRUNCATE payments_p1; INSERT INTO payments VALUES (101, 1, 101); COMMIT",
            "UPDATE customers SET qty = -3 WHERE id = 3",
            "UPDATE payments SET qty = -5 WHERE id = 5",
            "INSERT INTO customers VALUES (11, 11)",
        })
        {
            await _scratch.ExecuteAsync(statement);
        }

        // The changes before the truncate's transaction, of both tables, then the copy of payments alone
        // (whose snapshot has the truncate and what followed), then its sweep. (A loaded machine may end a run before the truncate.)
        var refresh = await ExtractAsync(job, snapshot);
        var kinds = new List<string>(refresh.Kinds);
        for (var runs = 0; !kinds.Contains("payments r") && runs < 10; runs++)
        {
            refresh = await ExtractAsync(job, refresh.High);
            kinds.AddRange(refresh.Kinds);
        }

        var copy = kinds.IndexOf("payments r");
        Assert.True(copy > 0, string.Join(", ", kinds));
        Assert.All(kinds[..copy], k => Assert.Matches("^(customers|payments) [ud]+$", k));
        Assert.Contains(kinds[..copy], k => k.StartsWith("customers", StringComparison.Ordinal));
        Assert.All(kinds[copy..^1], k => Assert.Equal("payments r", k));
        Assert.Equal("payments s", kinds[^1]);
        Assert.Equal(await ScalarAsync(Payments, "payments"), await ScalarAsync(Payments, "payments_copy"));
        // The watermark stays before the truncate's transaction, so the customers' changes from it on come
        // with the next run; payments carries its copy's point, past the truncate.
        var read = CdcStreamsPosition.TryRead(refresh.High)!.Value;
        Assert.Equal(["public.customers", "public.payments"], read.Tables.Order(StringComparer.Ordinal));
        Assert.True(read.CopiedAt.TryGetValue("public.payments", out var copiedAt) && copiedAt > read.Lsn, $"{refresh.High}");
        Assert.False(read.CopiedAt.ContainsKey("public.customers"));
        Assert.NotEqual(-2, Convert.ToInt32(await _scratch.ScalarAsync("SELECT qty FROM customers_copy WHERE id = 2")));

        await _scratch.ExecuteAsync("INSERT INTO payments VALUES (102, 2, 102); UPDATE payments SET qty = -7 WHERE id = 7; UPDATE customers SET qty = -4 WHERE id = 4");
        var watermark = refresh.High;
        var later = new List<string>();
        for (var runs = 0; runs < 20; runs++)
        {
            var run = await ExtractAsync(job, watermark);
            later.AddRange(run.Kinds);
            watermark = run.High;
            if (run.Rows == 0)
            {
                break;
            }
        }

        // Nothing is copied again: the truncate is in payments' copy and passed over.
        Assert.All(later, k => Assert.Matches("^(customers|payments) [ud]+$", k));
        Assert.Equal(await ScalarAsync(Payments, "payments"), await ScalarAsync(Payments, "payments_copy"));
        Assert.Equal(await ScalarAsync(Customers, "customers"), await ScalarAsync(Customers, "customers_copy"));
        Assert.Equal("1:-1,2:-2,3:-3,4:-4,11:11", await ScalarAsync("SELECT string_agg(id || ':' || qty, ',' ORDER BY id) FROM customers_copy WHERE qty < 0 OR id > 10"));
        // Of region 2, only the row the source deleted ever left the destination, and it was never truncated.
        Assert.Equal("3", await ScalarAsync("SELECT coalesce(string_agg(coalesce(id::text, 'truncate'), ',' ORDER BY id), '') FROM payments_lost WHERE region IS NULL OR region = 2"));
        // Once the stream is past the copy's point, the watermark names the tables alone.
        Assert.Empty(CdcStreamsPosition.TryRead(watermark)!.Value.CopiedAt);
    }

    [Fact]
    public async Task A_stream_added_whose_destination_holds_rows_the_source_no_longer_has_is_copied_as_a_refresh_and_then_followed()
    {
        var name = "cdc_added_" + Suffix();
        var first = await ExtractAsync(Job(name, "customers"), after: null);
        // payments' destination holds what an earlier time of the stream left: a row the source no longer has, and one with an old value.
        await _scratch.ExecuteAsync("INSERT INTO payments_copy VALUES (999, 1, 999), (5, 2, -555)");

        var job = Job(name, "customers", "payments");
        var added = await ExtractAsync(job, first.High);
        Assert.Equal(["payments r", "payments s"], added.Kinds);
        Assert.Equal(await ScalarAsync(Payments, "payments"), await ScalarAsync(Payments, "payments_copy"));

        await _scratch.ExecuteAsync("UPDATE payments SET qty = -7 WHERE id = 7; UPDATE customers SET qty = -5 WHERE id = 5; DELETE FROM payments WHERE id = 8");
        var watermark = added.High;
        while ((await ExtractAsync(job, watermark)) is { Rows: > 0 } run)
        {
            Assert.All(run.Kinds, k => Assert.Matches("^(customers|payments) [ud]+$", k));
            watermark = run.High;
        }

        Assert.Equal(await ScalarAsync(Payments, "payments"), await ScalarAsync(Payments, "payments_copy"));
        Assert.Equal(await ScalarAsync(Customers, "customers"), await ScalarAsync(Customers, "customers_copy"));
    }

    [Fact]
    public void A_watermark_names_a_tables_copy_point_until_its_lsn_reaches_it_and_one_without_points_reads_as_before()
    {
        var point = NpgsqlLogSequenceNumber.Parse("0/16C0A10");
        var before = NpgsqlLogSequenceNumber.Parse("0/16B3748");
        var copied = CdcStreamsPosition.With(new Dictionary<string, NpgsqlLogSequenceNumber>(), ["public.b"], point);

        Assert.Equal(["lsn:0/16B3748", "public.a", "public.b@0/16C0A10"], CdcStreamsPosition.Of(before, ["public.b", "public.a"], copied).Values);
        Assert.Equal(["lsn:0/16C0A10", "public.a", "public.b"], CdcStreamsPosition.Of(point, ["public.b", "public.a"], copied).Values);
        var read = CdcStreamsPosition.TryRead(new CursorPosition(["lsn:0/16B3748", "public.a", "public.b@0/16C0A10"]))!.Value;
        Assert.Equal(before, read.Lsn);
        Assert.Equal(["public.a", "public.b"], read.Tables.Order(StringComparer.Ordinal));
        Assert.Equal(point, Assert.Single(read.CopiedAt, c => c.Key == "public.b").Value);
        var old = CdcStreamsPosition.TryRead(new CursorPosition(["lsn:0/16B3748", "public.a", "public.b"]))!.Value;
        Assert.Equal(["public.a", "public.b"], old.Tables.Order(StringComparer.Ordinal));
        Assert.Empty(old.CopiedAt);
        Assert.Null(CdcStreamsPosition.TryRead(new CursorPosition(["lsn:0/16B3748", "public.a@x"])));
    }

    /// <summary>A run that loads each batch as it comes; <c>Kinds</c> gets, per batch in order, its table and the distinct operations of its rows (as "payments ud").</summary>
    private async Task<(long Rows, CursorPosition? High, List<string> Kinds)> ExtractAsync(JobSpec job, CursorPosition? after)
    {
        var destination = new PostgresDestination(_connections, _resilience);
        var source = new PostgresChangeSource(_connections, _resilience, Options.Create(_options), NullLogger<PostgresChangeSource>.Instance);
        var (runId, extractionId, seq) = (Guid.NewGuid(), Guid.NewGuid(), 0);
        var kinds = new List<string>();
        var summary = await source.ExtractStreamsAsync(job, after, fence: 0, async (stream, batch, _, ct) =>
        {
            seq++;
            if (batch.Operations is { } operations)
            {
                kinds.Add($"{stream.Source.Table["public.".Length..]} {new string([.. operations.Distinct().Select(o => (char)o)])}");
            }

            await destination.LoadAsync(new BatchToLoad(stream, runId, extractionId, seq, batch, Fence: 0), ct);
        }, CancellationToken.None);
        return (summary.RowCount, summary.High, kinds);
    }

    private async Task<string> ScalarAsync(string sql, string table) => (string)(await _scratch.ScalarAsync(sql.Replace("{0}", table, StringComparison.Ordinal)))!;

    private async Task<string> ScalarAsync(string sql) => (string)(await _scratch.ScalarAsync(sql))!;

    /// <summary>A cdc job with streams, as StreamExpansion makes one: a stream per table, <c>JOB.TABLE</c>, into <c>TABLE_copy</c>.</summary>
    private static JobSpec Job(string name, params string[] tables)
    {
        var streams = tables.Select(table =>
        {
            string[] key = table == "payments" ? ["id", "region"] : ["id"];
            return new JobSpec(
                $"{name}.{table}",
                new SourceSpec(SourceKind.Postgres, "source", $"public.{table}", string.Empty, key),
                new TransformSpec([]),
                new DestinationSpec(DestinationKind.Postgres, "destination", $"public.{table}_copy", key, ConflictStrategy.SourceWins, DeleteMode.Delete),
                1000,
                null,
                SyncMode.Cdc);
        }).ToList();
        return new JobSpec(
            name,
            new SourceSpec(SourceKind.Postgres, "source", string.Empty, string.Empty, []),
            new TransformSpec([]),
            new DestinationSpec(DestinationKind.Postgres, "destination", string.Empty, [], ConflictStrategy.SourceWins, DeleteMode.Delete),
            1000,
            "continuous",
            SyncMode.Cdc,
            Streams: streams);
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];
}
