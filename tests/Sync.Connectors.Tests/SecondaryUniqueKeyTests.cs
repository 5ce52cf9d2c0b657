using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Batches;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// A destination with a secondary UNIQUE index (note, standing for an email) against real
/// PostgreSQL: a batch is applied so that the destination passes only through states the source
/// passed through, so a value freed by one change and taken by a later one loads without a dead
/// letter (issue 14, item 5).
/// </summary>
public sealed class SecondaryUniqueKeyTests : IAsyncLifetime
{
    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private PostgresDestination _destination = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("uk_conn");
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
    public async Task A_delete_then_an_insert_of_its_email_in_one_change_batch_loads_both()
    {
        var job = await JobAsync("dst_delete_insert");
        await _scratch.ExecuteAsync("INSERT INTO dst_delete_insert (id, note) VALUES (1, 'x'), (3, 'z')");
        var batch = SampleBatch.Of(
            ["1", null, null, null, null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "x", null],
            ["3", null, null, null, null],
            ["4", "2026-01-01T00:00:00+00:00", "4", "z", null]) with
        {
            Operations = [RowOperations.Delete, RowOperations.Upsert, RowOperations.Delete, RowOperations.Upsert],
        };

        var result = await _destination.LoadAsync(new BatchToLoad(job, Guid.NewGuid(), Guid.NewGuid(), 1, batch, Fence: 1), CancellationToken.None);

        Assert.Empty(result.Rejected);
        Assert.Equal((4, 2, 0, 2, 0), (result.Rows, result.Inserted, result.Updated, result.Deleted, result.Skipped));
        Assert.Equal("2:x|4:z", await NotesAsync("dst_delete_insert"));
    }

    [Fact]
    public async Task An_update_that_frees_an_email_then_an_insert_that_takes_it_load_in_one_change_batch()
    {
        var job = await JobAsync("dst_update_insert");
        await _scratch.ExecuteAsync("INSERT INTO dst_update_insert (id, note) VALUES (2, 'x'), (5, 'w')");
        // Key order is the reverse of batch order; a delete after them makes it a change batch of two runs.
        var batch = SampleBatch.Of(
            ["2", "2026-01-01T00:00:00+00:00", "2", "y", null],
            ["1", "2026-01-01T00:00:00+00:00", "1", "x", null],
            ["5", null, null, null, null],
            ["3", "2026-01-01T00:00:00+00:00", "3", "w", null]) with
        {
            Operations = [RowOperations.Upsert, RowOperations.Upsert, RowOperations.Delete, RowOperations.Upsert],
        };

        var result = await _destination.LoadAsync(new BatchToLoad(job, Guid.NewGuid(), Guid.NewGuid(), 1, batch, Fence: 1), CancellationToken.None);

        Assert.Empty(result.Rejected);
        Assert.Equal((4, 2, 1, 1, 0), (result.Rows, result.Inserted, result.Updated, result.Deleted, result.Skipped));
        Assert.Equal("1:x|2:y|3:w", await NotesAsync("dst_update_insert"));
    }

    [Fact]
    public async Task An_insert_that_takes_the_email_of_a_row_the_batch_deletes_later_loads()
    {
        var job = await JobAsync("dst_insert_delete");
        await _scratch.ExecuteAsync("INSERT INTO dst_insert_delete (id, note) VALUES (1, 'x')");
        // At the source: id 1 frees x, id 2 takes it, id 1 is deleted. Only id 1's delete is kept, after id 2's insert.
        var batch = SampleBatch.Of(
            ["1", "2026-01-01T00:00:00+00:00", "1", "q", null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "x", null],
            ["1", null, null, null, null]) with
        {
            Operations = [RowOperations.Upsert, RowOperations.Upsert, RowOperations.Delete],
        };

        var result = await _destination.LoadAsync(new BatchToLoad(job, Guid.NewGuid(), Guid.NewGuid(), 1, batch, Fence: 1), CancellationToken.None);

        Assert.Empty(result.Rejected);
        Assert.Equal((3, 1, 0, 1, 1), (result.Rows, result.Inserted, result.Updated, result.Deleted, result.Skipped));
        Assert.Equal("2:x", await NotesAsync("dst_insert_delete"));
    }

    [Fact]
    public void A_change_batch_whose_changes_alternate_goes_in_as_its_deletes_then_its_upserts()
    {
        var batch = SampleBatch.Of(
            ["10", "2026-01-01T00:00:00+00:00", "1", "a", null],
            ["11", null, null, null, null],
            ["12", "2026-01-01T00:00:00+00:00", "1", "b", null],
            ["13", null, null, null, null],
            ["14", "2026-01-01T00:00:00+00:00", "1", "c", null],
            ["15", null, null, null, null]) with
        {
            Operations = [RowOperations.Upsert, RowOperations.Delete, RowOperations.Upsert, RowOperations.Delete, RowOperations.Upsert, RowOperations.Delete],
        };

        var runs = ChangeRows.Split(batch, [0])!;

        Assert.Equal([(true, 3), (false, 3)], runs.Select(r => (r.Deletes, r.Rows.RowCount)));
        Assert.Equal([[1, 3, 5], [0, 2, 4]], runs.Select(r => r.Indexes));
    }

    [Fact]
    public async Task A_record_refused_in_a_later_run_of_a_change_batch_is_reported_under_its_batch_index()
    {
        var job = await JobAsync("dst_refused_run");
        await _scratch.ExecuteAsync("INSERT INTO dst_refused_run (id, note) VALUES (1, 'x')");
        var batch = SampleBatch.Of(
            ["1", null, null, null, null],
            ["2", "2026-01-01T00:00:00+00:00", "20000", "refused", null],
            ["3", "2026-01-01T00:00:00+00:00", "3", "x", null]) with
        {
            Operations = [RowOperations.Delete, RowOperations.Upsert, RowOperations.Upsert],
        };

        var result = await _destination.LoadAsync(new BatchToLoad(job, Guid.NewGuid(), Guid.NewGuid(), 1, batch, Fence: 1), CancellationToken.None);

        Assert.Equal([1], result.Rejected.Select(r => r.RowIndex));
        Assert.StartsWith("23514", result.Rejected[0].Error, StringComparison.Ordinal);
        Assert.Equal((2, 1, 0, 1, 0), (result.Rows, result.Inserted, result.Updated, result.Deleted, result.Skipped));
        Assert.Equal("3:x", await NotesAsync("dst_refused_run"));
    }

    [Fact]
    public async Task The_merge_writes_its_rows_in_batch_order_in_one_statement()
    {
        // Row isolation would apply these rows one by one and hide a merge that writes them in key
        // order, so the merge itself is run here: one statement, no refused row.
        await JobAsync("dst_merge_order");
        await _scratch.ExecuteAsync("INSERT INTO dst_merge_order (id, note) VALUES (2, 'x')");
        var batch = SampleBatch.Of(
            ["2", "2026-01-01T00:00:00+00:00", "2", "y", null],
            ["1", "2026-01-01T00:00:00+00:00", "1", "x", null]);
        await using var connection = new NpgsqlConnection(_scratch.ConnectionString);
        await connection.OpenAsync();
        var table = await PostgresSchema.GetColumnsAsync(connection, "public.dst_merge_order", CancellationToken.None);
        var plan = MergePlan.Create(Destination("dst_merge_order"), "updated_at", batch.Columns, table!);
        await using var transaction = await connection.BeginTransactionAsync();
        await using (var create = new NpgsqlCommand(plan.CreateStaging, connection))
        {
            await create.ExecuteNonQueryAsync();
        }

        await using (var copy = await connection.BeginRawBinaryCopyAsync(plan.Copy))
        {
            await copy.WriteAsync(CopyFormat.Header.ToArray());
            await copy.WriteAsync(batch.Rows);
            await copy.WriteAsync(CopyFormat.Trailer.ToArray());
        }

        await using var merge = new NpgsqlCommand(plan.Merge, connection);
        await using (var reader = await merge.ExecuteReaderAsync())
        {
            await reader.ReadAsync();
            Assert.Equal((1, 1), (reader.GetInt32(0), reader.GetInt32(1)));
        }

        await transaction.CommitAsync();
        Assert.Equal("1:x|2:y", await NotesAsync("dst_merge_order"));
    }

    private async Task<JobSpec> JobAsync(string table)
    {
        await _scratch.ExecuteAsync($"CREATE TABLE {table} (id bigint PRIMARY KEY, updated_at timestamptz, total numeric CHECK (total < 10000), note text UNIQUE, day date)");
        return new JobSpec(
            table,
            new SourceSpec(SourceKind.Postgres, "db", "public.src", "updated_at", ["id"]),
            new TransformSpec([]),
            Destination(table),
            BatchSize: 1000,
            Schedule: null,
            Mode: SyncMode.Cdc);
    }

    private static DestinationSpec Destination(string table) =>
        new(DestinationKind.Postgres, "db", $"public.{table}", ["id"], ConflictStrategy.SourceWins, DeleteMode.Delete);

    private async Task<string?> NotesAsync(string table) =>
        (string?)await _scratch.ScalarAsync($"SELECT string_agg(id || ':' || note, '|' ORDER BY id) FROM {table}");
}
