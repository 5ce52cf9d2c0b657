using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// The mark and the sweep of a full refresh against real PostgreSQL: every batch's keys are marked
/// in its load transaction, and one sweep deletes (or soft-deletes) the rows the run did not load,
/// once, and only while no later run has loaded.
/// </summary>
public sealed class FullRefreshSweepTests : IAsyncLifetime
{
    private const int Rows = 500;

    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("fr_conn");
        await _scratch.ExecuteAsync($"""
            CREATE TABLE src (id bigint PRIMARY KEY, status text NOT NULL, amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL);
            INSERT INTO src SELECT g, 'new', g, now() - interval '1 day' + g * interval '1 millisecond' FROM generate_series(1, {Rows}) g;
            CREATE TABLE dst (id bigint PRIMARY KEY, status text NOT NULL, amount numeric(12,2) NOT NULL CHECK (amount < 10000), updated_at timestamptz NOT NULL);
            CREATE TABLE dst_soft (id bigint PRIMARY KEY, status text NOT NULL, amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL, deleted_at timestamptz);
            """);
        _connections = _scratch.Catalog("src", "dst");
        _resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task A_refresh_deletes_exactly_the_rows_the_source_no_longer_has()
    {
        var job = Job("refresh-delete", "dst", "deletes: delete");
        var first = await RefreshAsync(job, fence: 1);
        Assert.Equal(0, first.Deleted);
        Assert.Equal(await DigestAsync("src"), await DigestAsync("dst"));

        await _scratch.ExecuteAsync("""
            DELETE FROM src WHERE id % 10 = 0;
            UPDATE src SET status = 'paid', amount = amount + 1, updated_at = clock_timestamp() WHERE id % 7 = 0;
            """);
        var second = await RefreshAsync(job, fence: 2);

        Assert.Equal(Rows / 10, second.Deleted);
        Assert.False(second.Replayed || second.Superseded);
        Assert.Equal(await DigestAsync("src"), await DigestAsync("dst"));
        Assert.Equal(0L, await ScalarAsync($"SELECT count(*) FROM {KeysTable(job)}"));
    }

    [Fact]
    public async Task A_soft_delete_stamps_the_missing_rows_and_a_row_that_comes_back_is_cleared()
    {
        var job = Job("refresh-soft", "dst_soft", "deletes: soft-delete\n  soft_delete_column: deleted_at");
        await RefreshAsync(job, fence: 11);
        await _scratch.ExecuteAsync("CREATE TABLE src_gone AS SELECT * FROM src WHERE id % 25 = 0; DELETE FROM src WHERE id % 25 = 0;");

        var second = await RefreshAsync(job, fence: 12);

        Assert.Equal(Rows / 25, second.Deleted);
        Assert.Equal((long)(Rows / 25), await ScalarAsync("SELECT count(*) FROM dst_soft WHERE deleted_at IS NOT NULL"));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM dst_soft d WHERE (d.deleted_at IS NOT NULL) = EXISTS (SELECT 1 FROM src s WHERE s.id = d.id)"));
        Assert.Equal(await DigestAsync("src"), await DigestAsync("dst_soft WHERE deleted_at IS NULL", "id, status, amount, updated_at"));

        // Unchanged rows come back (same cursor, so latest-wins alone would skip them): the upsert clears the stamp.
        await _scratch.ExecuteAsync("INSERT INTO src SELECT * FROM src_gone WHERE id <= 250");
        var third = await RefreshAsync(job, fence: 13);

        Assert.Equal(0, third.Deleted);
        Assert.Equal((long)(Rows / 50), await ScalarAsync("SELECT count(*) FROM dst_soft WHERE deleted_at IS NOT NULL"));
        Assert.Equal(await DigestAsync("src"), await DigestAsync("dst_soft WHERE deleted_at IS NULL", "id, status, amount, updated_at"));
    }

    [Fact]
    public async Task A_sweep_whose_fence_a_later_run_passed_deletes_nothing()
    {
        var job = Job("refresh-superseded", "dst", "deletes: delete");
        await RefreshAsync(job, fence: 21);
        await _scratch.ExecuteAsync("DELETE FROM src WHERE id > 400");
        var loaded = await LoadAllAsync(job, fence: 22);

        // A later run loads one batch before the sweep of run 22 arrives.
        await LoadAllAsync(job, fence: 23, maxBatches: 1);
        var swept = await new PostgresDeleteSweep(_connections, _resilience).SweepAsync(job, loaded, 22, CancellationToken.None);

        Assert.True(swept.Superseded);
        Assert.Equal(0, swept.Deleted);
        Assert.Equal((long)Rows, await ScalarAsync("SELECT count(*) FROM dst"));
    }

    [Fact]
    public async Task A_redelivered_sweep_is_applied_once_and_reports_its_first_count()
    {
        var job = Job("refresh-redelivered", "dst", "deletes: delete");
        await RefreshAsync(job, fence: 31);
        await _scratch.ExecuteAsync("DELETE FROM src WHERE id <= 30");
        var runId = await LoadAllAsync(job, fence: 32);
        var sweep = new PostgresDeleteSweep(_connections, _resilience);

        var first = await sweep.SweepAsync(job, runId, 32, CancellationToken.None);
        // A row appears in the destination after the sweep: a second application (its keys are gone) would delete everything.
        await _scratch.ExecuteAsync("INSERT INTO dst VALUES (9001, 'manual', 1, now())");
        var again = await sweep.SweepAsync(job, runId, 32, CancellationToken.None);

        Assert.Equal((30, false), (first.Deleted, first.Replayed));
        Assert.Equal((30, true), (again.Deleted, again.Replayed));
        Assert.Equal((long)(Rows - 30 + 1), await ScalarAsync("SELECT count(*) FROM dst"));
    }

    [Fact]
    public async Task A_record_the_destination_refuses_keeps_its_row_through_the_sweep()
    {
        var job = Job("refresh-refused", "dst", "deletes: delete");
        await RefreshAsync(job, fence: 41);
        await _scratch.ExecuteAsync("UPDATE src SET amount = 20000, updated_at = clock_timestamp() WHERE id = 7; DELETE FROM src WHERE id = 8;");

        var second = await RefreshAsync(job, fence: 42);

        Assert.Equal(1, second.Deleted);
        Assert.Equal(7m, await ScalarAsync("SELECT amount FROM dst WHERE id = 7"));
        Assert.Equal(0L, await ScalarAsync("SELECT count(*) FROM dst WHERE id = 8"));
        Assert.Equal((long)(Rows - 1), await ScalarAsync("SELECT count(*) FROM dst"));
    }

    [Fact]
    public async Task The_schema_check_refuses_a_soft_delete_column_that_is_missing_or_not_timestamptz()
    {
        var check = new JobSchemaCheck(_connections);

        var good = await check.CheckAsync(Job("check-soft", "dst_soft", "deletes: soft-delete\n  soft_delete_column: deleted_at"), CancellationToken.None);
        var missing = await check.CheckAsync(Job("check-soft", "dst_soft", "deletes: soft-delete\n  soft_delete_column: removed_at"), CancellationToken.None);
        var wrongType = await check.CheckAsync(Job("check-soft", "dst_soft", "deletes: soft-delete\n  soft_delete_column: status"), CancellationToken.None);

        Assert.Empty(good);
        Assert.Contains("ADD COLUMN removed_at timestamptz", Assert.Single(missing, p => p.Field == "destination.soft_delete_column").Message, StringComparison.Ordinal);
        Assert.Contains(wrongType, p => p.Field == "destination.soft_delete_column" && p.Message.Contains("must be timestamptz", StringComparison.Ordinal));
    }

    private JobSpec Job(string name, string table, string deletes)
    {
        var yaml = $"""
            name: {name}
            mode: full_refresh
            batch_size: 100
            source:
              type: postgres
              connection: src
              table: public.src
              cursor: updated_at
              primary_key: [id]
            destination:
              type: postgres
              connection: dst
              table: public.{table}
              {deletes}
            columns:
              id: id
              status: status
              amount: amount
              updated_at: updated_at
            """;
        var result = JobFile.Parse(yaml, $"{name}.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }

    private async Task<SweepResult> RefreshAsync(JobSpec job, long fence)
    {
        var runId = await LoadAllAsync(job, fence);
        return await new PostgresDeleteSweep(_connections, _resilience).SweepAsync(job, runId, fence, CancellationToken.None);
    }

    /// <summary>Extracts the whole source and loads its batches as one run with <paramref name="fence"/>; returns the run id.</summary>
    private async Task<Guid> LoadAllAsync(JobSpec job, long fence, int maxBatches = int.MaxValue)
    {
        var destination = new PostgresDestination(_connections, _resilience);
        var (runId, extractionId, seq) = (Guid.NewGuid(), Guid.NewGuid(), 0);
        await new PostgresSource(_connections, _resilience).ExtractAsync(job, after: null, async (batch, _, ct) =>
        {
            if (seq < maxBatches)
            {
                var result = await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, ++seq, batch, fence), ct);
                Assert.False(result.Superseded);
            }
        }, CancellationToken.None);
        return runId;
    }

    private string KeysTable(JobSpec job) =>
        RefreshKeys.TableName(job, [new TableColumn("id", 20, "bigint", true)]);

    private Task<object?> ScalarAsync(string sql) => _scratch.ScalarAsync(sql);

    private async Task<string> DigestAsync(string from, string columns = "id, status, amount, updated_at") =>
        (string)(await ScalarAsync($"SELECT count(*) || ' ' || md5(string_agg(r::text, '|' ORDER BY r.id)) FROM (SELECT {columns} FROM {from}) r"))!;
}
