using Microsoft.Extensions.Configuration;
using Sync.Connectors.DuckDb;
using Sync.Verification;
using Sync.Connectors.Postgres;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// <c>syncctl verify</c> of a DuckDB destination (issue 15), a real DuckDB file against a real PostgreSQL
/// source with 20,000 rows: the copy the Loader's types make (DECIMAL(38,18), TIMESTAMPTZ, VARCHAR
/// for char(n) and json, DATE, BOOLEAN, DOUBLE) is equal, each planted mismatch is found by key and
/// nothing else is, and rows past the watermark are left out.
/// </summary>
public sealed class DuckDbVerifyTests : IAsyncLifetime
{
    private const int Rows = 20_000;

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"sync-duckdb-verify-{Guid.NewGuid():N}");
    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private DuckDbConnections _files = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("verify_duck");
        _connections = _scratch.Catalog("src");
        _files = new DuckDbConnections(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["DuckDbConnections:warehouse"] = Path.Combine(_folder, "warehouse.duckdb") })
            .Build());
        await _scratch.ExecuteAsync($"""
            SET TIME ZONE 'Europe/Paris';
            CREATE TABLE src (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, total numeric(12,2), note text, doc json,
                              code char(6), day date, paid boolean, ratio double precision);
            INSERT INTO src
            SELECT i, to_timestamp(1704067200 + i), i / 100.0, 'note ' || i, json_build_object('b', i, 'a', 'x'),
                   CASE WHEN i % 7 = 0 THEN NULL ELSE 'c' || (i % 10) END, date '2024-01-01' + (i % 365), i % 2 = 0, (i / 10.0)::float8
            FROM generate_series(1, {Rows}) i;
            """);
        // No primary key, so that a repeated key can be planted; otherwise the types the Loader gives.
        await DuckAsync($"""
            CREATE TABLE main.dst (id BIGINT, updated_at TIMESTAMPTZ, total DECIMAL(38,18), note VARCHAR, doc VARCHAR,
                                   code VARCHAR, day DATE, paid BOOLEAN, ratio DOUBLE);
            INSERT INTO main.dst
            SELECT i, to_timestamp(1704067200 + i), CAST((i // 100)::VARCHAR || '.' || lpad((i % 100)::VARCHAR, 2, '0') AS DECIMAL(38,18)),
                   'note ' || i, '{"{"}"b" : ' || i || ', "a" : "x"{"}"}', CASE WHEN i % 7 = 0 THEN NULL ELSE rpad('c' || (i % 10), 6, ' ') END,
                   DATE '2024-01-01' + CAST(i % 365 AS INTEGER), i % 2 = 0, i / 10.0
            FROM range(1, {Rows + 1}) t(i);
            """);
    }

    public async Task DisposeAsync()
    {
        await _files.DisposeAsync();
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_copy_in_the_loaders_types_is_equal()
    {
        var result = await VerifyAsync(Job());

        Assert.Equal((VerifyOutcome.Equal, Rows, Rows), (result.Outcome, result.SourceRows, result.DestinationRows));
        Assert.Empty(result.Mismatches);
    }

    [Fact]
    public async Task Each_planted_mismatch_is_found_by_key_and_nothing_else()
    {
        await DuckAsync("""
            DELETE FROM main.dst WHERE id IN (17, 15001);
            INSERT INTO main.dst (id, updated_at, note) VALUES (20005, TIMESTAMPTZ '2024-01-01 00:00:00+00', 'planted');
            UPDATE main.dst SET note = 'changed' WHERE id = 42;
            UPDATE main.dst SET total = total + 0.01, paid = NOT paid WHERE id = 777;
            INSERT INTO main.dst SELECT * FROM main.dst WHERE id = 99;
            """);

        var result = await VerifyAsync(Job());

        Assert.Equal(VerifyOutcome.Different, result.Outcome);
        Assert.Equal((2, 1, 2, 1), (result.Missing, result.Extra, result.Different, result.Duplicated));
        Assert.Equal(
            ["different:42:note", "different:777:total,paid", "duplicate:99:", "extra:20005:", "missing:15001:", "missing:17:"],
            result.Mismatches.Select(m => $"{m.Kind}:{string.Join(',', m.Key)}:{string.Join(',', m.Columns ?? [])}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Rows_past_the_watermark_are_left_out_on_both_sides()
    {
        // After the watermark (id 10,000's time): a new source row, a source row updated since (its
        // destination copy is older), and a destination row a run in flight has loaded already.
        await _scratch.ExecuteAsync("""
            INSERT INTO src (id, updated_at, note) VALUES (30001, '2030-01-01+00', 'late');
            UPDATE src SET updated_at = '2030-01-01+00', note = 'moved on' WHERE id = 5;
            UPDATE src SET updated_at = '2030-01-01+00', note = 'loaded ahead' WHERE id = 6;
            """);
        await DuckAsync("UPDATE main.dst SET updated_at = TIMESTAMPTZ '2030-01-01 00:00:00+00', note = 'loaded ahead' WHERE id = 6");
        var job = Job() with { Mode = SyncMode.Incremental };

        var result = await VerifyAsync(job, watermark: "2024-01-01 02:46:40+00");

        Assert.Equal((VerifyOutcome.Equal, 9_998L), (result.Outcome, result.SourceRows));
        Assert.Empty(result.Mismatches);
    }

    private async Task DuckAsync(string sql)
    {
        using var lease = await _files.AcquireAsync("warehouse", CancellationToken.None);
        await DuckDbDestination.ExecuteAsync(lease.Connection, sql, CancellationToken.None);
    }

    private Task<JobVerified> VerifyAsync(JobSpec job, string? watermark = null) =>
        new DuckDbVerifier(_connections, _files).VerifyAsync(new VerifyJob(Guid.NewGuid(), job.Name, job, watermark), CancellationToken.None);

    private static JobSpec Job() => new(
        "verify_duck",
        new SourceSpec(SourceKind.Postgres, "src", "public.src", "updated_at", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.DuckDb, "warehouse", "main.dst", ["id"], ConflictStrategy.SourceWins, DeleteMode.Delete),
        BatchSize: 1000,
        Schedule: null,
        Mode: SyncMode.FullRefresh);
}
