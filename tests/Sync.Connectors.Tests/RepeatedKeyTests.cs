using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// A key repeated within one batch (a CSV with a repeated id, an API repeating a record across
/// pages, a source without a unique key) against real PostgreSQL: the last row of the batch wins and
/// the others count as skipped, on the fast path, through row isolation and in change batches;
/// across batches the conflict strategy decides as before (issue 13, item 2).
/// </summary>
public sealed class RepeatedKeyTests : IAsyncLifetime
{
    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private PostgresDestination _destination = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("rk_conn");
        _connections = _scratch.Catalog("db");
        _destination = new PostgresDestination(
            _connections, new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance));
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task A_key_repeated_in_a_batch_loads_its_last_row_and_the_others_count_as_skipped()
    {
        var job = await JobAsync("dst_fast", ConflictStrategy.LatestWins);
        // The last row of key 1 has the oldest cursor: within a batch, order decides, not the cursor.
        var first = SampleBatch.Of(
            ["1", "2026-01-01T00:00:00+00:00", "1", "1 first", null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "2 only", null],
            ["1", "2026-01-03T00:00:00+00:00", "1", "1 second", null],
            ["1", "2026-01-02T00:00:00+00:00", "1", "1 last", null]);
        var second = SampleBatch.Of(
            ["2", "2026-01-05T00:00:00+00:00", "2", "2 newer", null],
            ["2", "2026-01-06T00:00:00+00:00", "2", "2 newest", null],
            ["1", "2025-12-01T00:00:00+00:00", "1", "1 older than the destination", null]);
        var run = Guid.NewGuid();

        var one = await _destination.LoadAsync(new BatchToLoad(job, run, run, 1, first, Fence: 1), CancellationToken.None);
        var two = await _destination.LoadAsync(new BatchToLoad(job, run, run, 2, second, Fence: 1), CancellationToken.None);

        Assert.Equal((4, 2, 0, 2), (one.Rows, one.Inserted, one.Updated, one.Skipped));
        // Across batches latest-wins decides: key 1's row is older than the destination's, so it is skipped.
        Assert.Equal((3, 0, 1, 2), (two.Rows, two.Inserted, two.Updated, two.Skipped));
        Assert.Equal("1:1 last|2:2 newest", await NotesAsync("dst_fast"));
    }

    [Fact]
    public async Task Batches_with_and_without_a_repeated_key_in_turn_on_one_connection_each_load_as_a_merge_of_their_own()
    {
        // A batch without a repeated key merges without DISTINCT ON (MergePlan.MergeOfDistinctKeys);
        // the next batch of the same shape, with one, must still keep only the key's last row.
        var job = await JobAsync("dst_turns", ConflictStrategy.SourceWins);
        var distinct = SampleBatch.Of(
            ["3", "2026-01-01T00:00:00+00:00", "3", "3 only", null],
            ["1", "2026-01-01T00:00:00+00:00", "1", "1 only", null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "2 only", null]);
        var repeated = SampleBatch.Of(
            ["2", "2026-01-02T00:00:00+00:00", "2", "2 first", null],
            ["4", "2026-01-02T00:00:00+00:00", "4", "4 only", null],
            ["2", "2026-01-02T00:00:00+00:00", "2", "2 last", null]);
        var then = SampleBatch.Of(
            ["5", "2026-01-03T00:00:00+00:00", "5", "5 only", null],
            ["1", "2026-01-03T00:00:00+00:00", "1", "1 again", null]);
        var run = Guid.NewGuid();

        var one = await _destination.LoadAsync(new BatchToLoad(job, run, run, 1, distinct, Fence: 1), CancellationToken.None);
        var two = await _destination.LoadAsync(new BatchToLoad(job, run, run, 2, repeated, Fence: 1), CancellationToken.None);
        var three = await _destination.LoadAsync(new BatchToLoad(job, run, run, 3, then, Fence: 1), CancellationToken.None);

        Assert.Equal((3, 3, 0, 0), (one.Rows, one.Inserted, one.Updated, one.Skipped));
        Assert.Equal((3, 1, 1, 1), (two.Rows, two.Inserted, two.Updated, two.Skipped));
        Assert.Equal((2, 1, 1, 0), (three.Rows, three.Inserted, three.Updated, three.Skipped));
        Assert.Equal("1:1 again|2:2 last|3:3 only|4:4 only|5:5 only", await NotesAsync("dst_turns"));
    }

    [Fact]
    public async Task A_repeated_key_in_a_batch_with_a_refused_record_keeps_the_last_row_of_each_key()
    {
        var job = await JobAsync("dst_isolated", ConflictStrategy.SourceWins);
        // Row 1 breaks the CHECK; row 3 would too, but row 4 supersedes it, so it is skipped, not refused.
        var batch = SampleBatch.Of(
            ["1", "2026-01-01T00:00:00+00:00", "1", "1 first", null],
            ["2", "2026-01-01T00:00:00+00:00", "20000", "2 refused", null],
            ["1", "2026-01-01T00:00:00+00:00", "1", "1 last", null],
            ["3", "2026-01-01T00:00:00+00:00", "30000", "3 superseded", null],
            ["3", "2026-01-01T00:00:00+00:00", "3", "3 last", null],
            ["4", "2026-01-01T00:00:00+00:00", "4", "4 only", null]);

        var result = await _destination.LoadAsync(new BatchToLoad(job, Guid.NewGuid(), Guid.NewGuid(), 1, batch, Fence: 1), CancellationToken.None);

        Assert.Equal([1], result.Rejected.Select(r => r.RowIndex));
        Assert.StartsWith("23514", result.Rejected[0].Error, StringComparison.Ordinal);
        Assert.Equal((5, 3, 0, 2), (result.Rows, result.Inserted, result.Updated, result.Skipped));
        Assert.Equal("1:1 last|3:3 last|4:4 only", await NotesAsync("dst_isolated"));
    }

    [Fact]
    public async Task A_change_batch_applies_the_last_change_of_each_destination_key()
    {
        var job = await JobAsync("dst_changes", ConflictStrategy.SourceWins, DeleteMode.Delete);
        await _scratch.ExecuteAsync("INSERT INTO dst_changes (id, note) VALUES (2, '2 old'), (3, '3 old'), (4, '4 old')");
        // A destination key may repeat in a change batch when it is not the source's primary key, or a
        // transform computes it; a delete and an upsert of one key must apply in the batch's order.
        var batch = SampleBatch.Of(
            ["1", "2026-01-01T00:00:00+00:00", "1", "1 first", null],
            ["1", "2026-01-01T00:00:00+00:00", "1", "1 last", null],
            ["2", null, null, null, null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "2 back", null],
            ["3", "2026-01-01T00:00:00+00:00", "3", "3 then deleted", null],
            ["3", null, null, null, null],
            ["4", null, null, null, null]) with
        {
            Operations = [RowOperations.Upsert, RowOperations.Upsert, RowOperations.Delete, RowOperations.Upsert, RowOperations.Upsert, RowOperations.Delete, RowOperations.Delete],
        };

        var result = await _destination.LoadAsync(new BatchToLoad(job, Guid.NewGuid(), Guid.NewGuid(), 1, batch, Fence: 1), CancellationToken.None);

        Assert.Equal((7, 1, 1, 2, 3), (result.Rows, result.Inserted, result.Updated, result.Deleted, result.Skipped));
        Assert.Equal("1:1 last|2:2 back", await NotesAsync("dst_changes"));
    }

    private async Task<JobSpec> JobAsync(string table, ConflictStrategy conflict, DeleteMode deletes = DeleteMode.Keep)
    {
        await _scratch.ExecuteAsync($"CREATE TABLE {table} (id bigint PRIMARY KEY, updated_at timestamptz, total numeric CHECK (total < 10000), note text, day date)");
        return new JobSpec(
            table,
            new SourceSpec(SourceKind.Postgres, "db", "public.src", "updated_at", ["id"]),
            new TransformSpec([]),
            new DestinationSpec(DestinationKind.Postgres, "db", $"public.{table}", ["id"], conflict, deletes),
            BatchSize: 1000,
            Schedule: null,
            Mode: deletes == DeleteMode.Keep ? SyncMode.Incremental : SyncMode.Cdc);
    }

    private async Task<string?> NotesAsync(string table) =>
        (string?)await _scratch.ScalarAsync($"SELECT string_agg(id || ':' || note, '|' ORDER BY id) FROM {table}");
}
