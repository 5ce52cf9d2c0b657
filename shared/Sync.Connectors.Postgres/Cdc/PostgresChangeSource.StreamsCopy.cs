using System.Data;
using Npgsql;
using Npgsql.Replication;
using NpgsqlTypes;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>The copies of a cdc job's tables in an exported snapshot, after its first run's (see PostgresChangeSource.Streams.cs).</summary>
public sealed partial class PostgresChangeSource
{
    /// <summary>
    /// Copies <paramref name="streams"/> in the exported snapshot of a temporary slot made now, as a
    /// refresh: each table's rows as <see cref="RowOperations.Refresh"/> (upserts the Loader marks), then
    /// one <see cref="RowOperations.Sweep"/> that removes the destination rows the copy did not name. These
    /// are change batches after any the run sent before, so they apply after them, and the destination
    /// never loses a row the source still has. The run's high mark is <paramref name="high"/> of the slot's
    /// consistent point L: the transactions that committed before L are in the copy.
    /// </summary>
    private async Task CopyAgainAsync(
        JobSpec job, IReadOnlyList<StreamPlan> streams, Func<NpgsqlLogSequenceNumber, CursorPosition> high, ExtractionSummary summary,
        Func<JobSpec, RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        // A temporary slot goes with its connection; it is made only for its snapshot, and a name of its
        // own per extraction keeps a redelivered one from meeting it.
        await using var replication = new LogicalReplicationConnection(connections.GetConnectionString(job.Source.Connection));
        await replication.Open(cancellationToken);
        var slot = await replication.CreatePgOutputReplicationSlot(
            $"sync_copy_{Guid.NewGuid():N}", temporarySlot: true, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.Export, cancellationToken: cancellationToken);
        var position = high(slot.ConsistentPoint);
        await using var connection = await connections.Get(job.Source.Connection).OpenConnectionAsync(cancellationToken);
        await CopyInSnapshotAsync(connection, slot.SnapshotName, streams, position, refresh: true, summary, onBatch, cancellationToken);
        summary.KeepAtLeast(position);
    }

    /// <summary>
    /// Copies the streams' tables in the snapshot; with <paramref name="refresh"/>, as refresh rows and a
    /// sweep per table (<see cref="CopyAgainAsync"/>). The exported snapshot lives only while its
    /// replication connection stays open and idle: the caller keeps it so.
    /// </summary>
    private static async Task CopyInSnapshotAsync(
        NpgsqlConnection connection, string? snapshotName, IReadOnlyList<StreamPlan> plans, CursorPosition high, bool refresh, ExtractionSummary summary,
        Func<JobSpec, RecordBatch, CursorPosition, CancellationToken, ValueTask> onBatch, CancellationToken cancellationToken)
    {
        await using var transaction = await connection.BeginTransactionAsync(IsolationLevel.RepeatableRead, cancellationToken);
        // SET TRANSACTION SNAPSHOT takes no parameter; the name is the server's, checked to be one.
        var snapshot = snapshotName is { } name && SnapshotName().IsMatch(name)
            ? name
            : throw new InvalidOperationException($"The replication slot returned no usable snapshot name ({snapshotName}).");
        await using (var set = new NpgsqlCommand($"SET TRANSACTION SNAPSHOT '{snapshot}'", connection, transaction))
        {
            await set.ExecuteNonQueryAsync(cancellationToken);
        }

        // A copy never writes; a query is the operator's SQL, so a mistaken one cannot write to the source.
        await using (var readOnly = new NpgsqlCommand("SET TRANSACTION READ ONLY", connection, transaction))
        {
            await readOnly.ExecuteNonQueryAsync(cancellationToken);
        }

        foreach (var stream in plans)
        {
            var rows = new TupleBuffer();
            var sql = PostgresSource.BuildCopySql(stream.Job.Source with { Cursor = stream.Plan.Columns[0].Name, Lookback = TimeSpan.Zero }, stream.Plan, hasAfter: false, CursorBound.None);
            await CopyBatches.ReadAsync(connection, sql, stream.Job, rows, EmitAsync, cancellationToken);
            if (refresh)
            {
                summary.Add(1, high);
                await onBatch(stream.Job, Sweep(stream.Plan), high, cancellationToken);
            }

            async ValueTask EmitAsync()
            {
                var batch = new RecordBatch(stream.Plan.BatchColumns, rows.RowCount, rows.ToArray(), refresh ? Enumerable.Repeat(RowOperations.Refresh, rows.RowCount).ToArray() : null);
                rows.Clear();
                summary.Add(batch.RowCount, high);
                await onBatch(stream.Job, batch, high, cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>The batch of a refresh's sweep: one row, every field null.</summary>
    private static RecordBatch Sweep(SourcePlan plan)
    {
        var sweep = new TupleBuffer();
        sweep.BeginTuple(plan.BatchColumns.Count);
        for (var i = 0; i < plan.BatchColumns.Count; i++)
        {
            sweep.AppendField(default, isNull: true);
        }

        return new RecordBatch(plan.BatchColumns, 1, sweep.ToArray(), [RowOperations.Sweep]);
    }
}
