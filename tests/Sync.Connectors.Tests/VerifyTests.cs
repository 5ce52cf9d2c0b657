using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Verification;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// <c>syncctl verify</c> at the connector (issue 15), against real PostgreSQL with 100,000 rows: each
/// kind of planted mismatch is found by key and nothing else is; a destination re-typed on purpose
/// (numeric scale, timestamp in UTC, jsonb, char(n)) is equal; rows past the watermark are left out.
/// </summary>
public sealed class VerifyTests : IAsyncLifetime
{
    private const int Rows = 100_000;

    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("verify_conn");
        _connections = _scratch.Catalog("src", "dst");
        // The destination has no unique key, so a repeated key can be planted; its types differ from
        // the source's as a re-typed destination's legitimately do.
        await _scratch.ExecuteAsync($"""
            SET TIME ZONE 'Europe/Paris';
            CREATE TABLE src (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, total numeric(12,2), note text, doc json, code char(6));
            INSERT INTO src
            SELECT i, timestamptz '2024-01-01 00:00:00+00' + i * interval '1 second', i / 100.0, 'note ' || i,
                   json_build_object('b', i, 'a', 'x'), CASE WHEN i % 7 = 0 THEN NULL ELSE 'c' || (i % 10) END
            FROM generate_series(1, {Rows}) i;
            CREATE TABLE dst (id bigint NOT NULL, updated_at timestamp NOT NULL, total numeric(14,4), note text, doc jsonb, code text);
            INSERT INTO dst SELECT id, updated_at AT TIME ZONE 'UTC', total, note, doc::jsonb, code FROM src;
            """);
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task A_retyped_copy_is_equal()
    {
        var result = await VerifyAsync(Job());

        Assert.Equal((VerifyOutcome.Equal, Rows, Rows), (result.Outcome, result.SourceRows, result.DestinationRows));
        Assert.Empty(result.Mismatches);
    }

    [Fact]
    public async Task Each_planted_mismatch_is_found_by_key_and_nothing_else()
    {
        await _scratch.ExecuteAsync("""
            DELETE FROM dst WHERE id IN (17, 50001);
            INSERT INTO dst VALUES (100005, '2024-01-01', 1, 'planted', '{}', NULL);
            UPDATE dst SET note = 'changed' WHERE id = 42;
            UPDATE dst SET total = total + 0.01, doc = '{"a": "y", "b": 777}' WHERE id = 777;
            INSERT INTO dst SELECT * FROM dst WHERE id = 99;
            """);

        var result = await VerifyAsync(Job());

        Assert.Equal(VerifyOutcome.Different, result.Outcome);
        Assert.Equal((2, 1, 2, 1), (result.Missing, result.Extra, result.Different, result.Duplicated));
        Assert.Equal(
            ["different:42:note", "different:777:total,doc", "duplicate:99:", "extra:100005:", "missing:17:", "missing:50001:"],
            result.Mismatches.Select(m => $"{m.Kind}:{string.Join(',', m.Key)}:{string.Join(',', m.Columns ?? [])}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Rows_past_the_watermark_are_left_out_on_both_sides()
    {
        // Written after the watermark: a new source row, a source row updated since (its destination
        // copy is older), and a destination row a run in flight has loaded already.
        await _scratch.ExecuteAsync("""
            INSERT INTO src VALUES (200001, '2030-01-01+00', 1, 'late', '{}', NULL);
            UPDATE src SET updated_at = '2030-01-01+00', note = 'moved on' WHERE id = 5;
            UPDATE dst SET updated_at = '2030-01-01', note = 'loaded ahead' WHERE id = 6;
            UPDATE src SET updated_at = '2030-01-01+00', note = 'loaded ahead' WHERE id = 6;
            """);
        var job = Job() with { Mode = SyncMode.Incremental };

        var result = await VerifyAsync(job, watermark: "2024-06-01 00:00:00+00");

        Assert.Equal(VerifyOutcome.Equal, result.Outcome);
        Assert.Empty(result.Mismatches);
        Assert.Equal(Rows - 2, result.SourceRows);
    }

    [Fact]
    public async Task A_job_with_a_code_transform_cannot_be_verified()
    {
        var job = Job() with { Transform = new TransformSpec([], Code: "Sync.Examples.Transforms.Uppercase") };

        var result = await VerifyAsync(job);

        Assert.Equal(VerifyOutcome.Unverifiable, result.Outcome);
        Assert.StartsWith("cannot verify: transform Sync.Examples.Transforms.Uppercase", result.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_mapping_with_a_cast_is_compared_after_the_cast()
    {
        await _scratch.ExecuteAsync("""
            CREATE TABLE dst_cast (ident bigint PRIMARY KEY, amount integer, label text);
            INSERT INTO dst_cast SELECT id, round(total)::integer, note FROM src;
            UPDATE dst_cast SET amount = amount + 1 WHERE ident = 300;
            """);
        var job = Job() with
        {
            Transform = new TransformSpec([new ColumnMapping("ident", "id"), new ColumnMapping("amount", "total", "integer"), new ColumnMapping("label", "note")]),
            Destination = new DestinationSpec(DestinationKind.Postgres, "dst", "public.dst_cast", ["ident"], Deletes: DeleteMode.Delete),
        };

        var result = await VerifyAsync(job);

        var mismatch = Assert.Single(result.Mismatches);
        Assert.Equal(("different", "300", "amount"), (mismatch.Kind, mismatch.Key[0], string.Join(',', mismatch.Columns!)));
    }

    [Fact]
    public async Task A_query_source_is_compared_as_its_output()
    {
        await _scratch.ExecuteAsync("""
            CREATE TABLE dst_query (id bigint PRIMARY KEY, label text, updated_at timestamptz);
            INSERT INTO dst_query SELECT id, upper(note), updated_at FROM src WHERE id % 2 = 0;
            UPDATE dst_query SET label = 'wrong' WHERE id = 10;
            """);
        var job = Job() with
        {
            Source = new SourceSpec(SourceKind.Postgres, "src", string.Empty, "updated_at", ["id"], Query: "SELECT id, upper(note) AS label, updated_at FROM src WHERE id % 2 = 0"),
            Destination = new DestinationSpec(DestinationKind.Postgres, "dst", "public.dst_query", ["id"], Deletes: DeleteMode.Delete),
        };

        var result = await VerifyAsync(job);

        Assert.Equal((Rows / 2, Rows / 2), (result.SourceRows, result.DestinationRows));
        var mismatch = Assert.Single(result.Mismatches);
        Assert.Equal(("different", "10", "label"), (mismatch.Kind, mismatch.Key[0], string.Join(',', mismatch.Columns!)));
    }

    [Fact]
    public async Task A_column_the_job_ignores_is_not_compared_and_the_others_still_are()
    {
        await _scratch.ExecuteAsync("""
            CREATE TABLE dst_ignore (id bigint PRIMARY KEY, label text, synced_at timestamptz);
            INSERT INTO dst_ignore SELECT id, note, clock_timestamp() FROM src;
            UPDATE dst_ignore SET label = 'wrong' WHERE id = 77;
            """);
        var job = Job() with
        {
            Transform = new TransformSpec([new ColumnMapping("id", "id"), new ColumnMapping("label", "note"), new ColumnMapping("synced_at", "updated_at")]),
            Destination = new DestinationSpec(DestinationKind.Postgres, "dst", "public.dst_ignore", ["id"], Deletes: DeleteMode.Delete),
        };

        var compared = await VerifyAsync(job);
        var ignoring = await VerifyAsync(job with { Verify = new VerifySpec(false, null, ["synced_at"]) });

        Assert.True(compared.Different >= Rows - 1, $"{compared.Different} rows differ with synced_at compared");
        var mismatch = Assert.Single(ignoring.Mismatches);
        Assert.Equal(("different", "77", "label"), (mismatch.Kind, mismatch.Key[0], string.Join(',', mismatch.Columns!)));
    }

    [Fact]
    public async Task A_timestamptz_key_is_reported_with_its_zone_so_the_source_reads_it_back_in_any_session_time_zone()
    {
        await _scratch.ExecuteAsync("""
            CREATE TABLE src_at (at timestamptz PRIMARY KEY, note text);
            INSERT INTO src_at SELECT timestamptz '2024-06-01 12:00:00+00' + i * interval '1 hour', 'n' || i FROM generate_series(1, 50) i;
            CREATE TABLE dst_at (at timestamptz PRIMARY KEY, note text);
            INSERT INTO dst_at SELECT * FROM src_at WHERE note <> 'n7';
            """);
        var job = Job() with
        {
            Source = new SourceSpec(SourceKind.Postgres, "src", "public.src_at", "at", ["at"]),
            Destination = new DestinationSpec(DestinationKind.Postgres, "dst", "public.dst_at", ["at"], Deletes: DeleteMode.Delete),
        };

        var mismatch = Assert.Single((await VerifyAsync(job)).Mismatches);
        Assert.Equal(("missing", "2024-06-01 19:00:00+00"), (mismatch.Kind, mismatch.Key[0]));

        // A repair reads the key back from the source; here in a session nine hours from UTC.
        var tokyo = new ConnectionCatalog(new ConfigurationBuilder()
            .AddInMemoryCollection([new("Connections:src", _scratch.ConnectionString + ";Timezone=Asia/Tokyo")])
            .Build());
        await using (tokyo)
        {
            var resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
            var reread = await new PostgresSource(tokyo, resilience).ReadKeysAsync(job, [[.. mismatch.Key.Select(k => k!)]], CancellationToken.None);
            Assert.Equal(1, Assert.Single(reread).RowCount);
        }
    }

    [Fact]
    public async Task Soft_deleted_rows_are_compared_as_deleted()
    {
        await _scratch.ExecuteAsync("""
            ALTER TABLE dst ADD COLUMN deleted_at timestamptz;
            INSERT INTO dst (id, updated_at, deleted_at) VALUES (300001, '2024-01-01', now());
            UPDATE dst SET deleted_at = now() WHERE id = 12;
            """);
        var job = Job() with { Destination = new DestinationSpec(DestinationKind.Postgres, "dst", "public.dst", ["id"], Deletes: DeleteMode.SoftDelete, SoftDeleteColumn: "deleted_at") };

        var result = await VerifyAsync(job);

        var mismatch = Assert.Single(result.Mismatches);
        Assert.Equal(("missing", "12"), (mismatch.Kind, mismatch.Key[0]));
    }

    private Task<JobVerified> VerifyAsync(JobSpec job, string? watermark = null) =>
        new PostgresVerifier(_connections).VerifyAsync(new VerifyJob(Guid.NewGuid(), job.Name, job, watermark), CancellationToken.None);

    private static JobSpec Job() => new(
        "verify_orders",
        new SourceSpec(SourceKind.Postgres, "src", "public.src", "updated_at", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.Postgres, "dst", "public.dst", ["id"], ConflictStrategy.SourceWins, DeleteMode.Delete),
        BatchSize: 1000,
        Schedule: null,
        Mode: SyncMode.FullRefresh);
}
