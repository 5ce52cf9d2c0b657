using System.Collections.Concurrent;
using System.Data;
using Npgsql;
using Sync.Batches;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Loads batches into a PostgreSQL table idempotently: binary COPY into a staging table, one
/// INSERT … ON CONFLICT merge, and a row in sync.applied_batches, all in one transaction of the
/// destination database, so a batch delivered twice is applied and counted once. The connection's
/// resilience pipeline retries the transaction as a whole, on a fresh connection: a failed attempt
/// rolled back, and one whose commit was lost on the way is found in sync.applied_batches.
/// </summary>
public sealed class PostgresDestination(ConnectionCatalog connections, ConnectorResilience resilience) : IDestination
{
    private readonly ConcurrentDictionary<string, MergePlan> _plans = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, bool> _loaded = new(StringComparer.Ordinal);

    /// <summary>The destination connections this process has loaded into, whose applied batches it keeps tidy.</summary>
    public IReadOnlyCollection<string> LoadedConnections => [.. _loaded.Keys];

    public async Task<LoadResult> LoadAsync(BatchToLoad load, CancellationToken cancellationToken) =>
        await resilience.ExecuteAsync(
            load.Job.Destination.Connection,
            ct => LoadOnceAsync(load.Job, load.RunId, load.ExtractionId, load.BatchSeq, load.Batch, load.Fence, load.LoadedBy, ct),
            cancellationToken);

    private async ValueTask<LoadResult> LoadOnceAsync(JobSpec job, Guid runId, Guid extractionId, int batchSeq, RecordBatch batch, long fence, string? loadedBy, CancellationToken cancellationToken)
    {
        var destination = job.Destination;
        await using var connection = await connections.Get(destination.Connection).OpenConnectionAsync(cancellationToken);
        await PostgresMigrator.EnsureAsync(connection, cancellationToken);
        _loaded.TryAdd(destination.Connection, true);
        if (batch.Operations is not null)
        {
            await ChangeOrder.WaitForPredecessorAsync(connection, job.Name, runId, extractionId, batchSeq, fence, cancellationToken);
        }

        if (fence > 0)
        {
            await RunFence.RaiseAsync(connection, job.Name, fence, cancellationToken);
        }

        // Before the transaction: a partitioned destination's merge needs it REPEATABLE READ (MergePlan.Create
        // says why), and the table is made or evolved by DDL of its own (DestinationTable).
        var (plan, changes) = await GetPlanAsync(connection, job, batch.Columns, cancellationToken);
        string? marks = null;
        IReadOnlyList<TableColumn> markKeys = [];
        if ((fence > 0 && RefreshKeys.Applies(job)) || RefreshKeys.Refreshes(batch))
        {
            (marks, markKeys) = await RefreshKeys.EnsureTableAsync(connection, job, cancellationToken);
        }

        var (discarded, kept) = DiscardedRows(job.Destination, plan, batch);
        var original = batch;
        if (discarded.Count > 0)
        {
            batch = BatchKeys.Select(original, kept);
            changes = [.. changes, .. plan.Unknown.Select(c => $"set aside rows with a value in column \"{c}\" (destination.schema: discard_row)")];
        }
        else if (plan.Unknown.Count > 0 && job.Destination.Schema == SchemaContract.DiscardValue)
        {
            changes = [.. changes, .. plan.Unknown.Select(c => $"discarded the values of column \"{c}\" (destination.schema: discard_value)")];
        }

        await using var transaction = await connection.BeginTransactionAsync(
            plan.Partitioned ? IsolationLevel.RepeatableRead : IsolationLevel.Unspecified, cancellationToken);

        // The batch's inbox row, the run's fence (locked FOR SHARE), the staging table and, for a
        // cursor batch (one run of upserts), the savepoint of its rows in one round trip rather than
        // four: a replayed or superseded batch rolls the staging table back with the transaction.
        var truncate = batch.Operations is [RowOperations.Truncate];
        var sweep = batch.Operations is [RowOperations.Sweep];
        var savepointTaken = batch.Operations is null;
        await using (var begin = new NpgsqlBatch(connection, transaction))
        {
            begin.BatchCommands.Add(AppliedBatch.Find(runId, extractionId, batchSeq));
            if (fence > 0)
            {
                begin.BatchCommands.Add(RunFence.Admit(job.Name));
            }

            begin.BatchCommands.Add(new NpgsqlBatchCommand(plan.CreateStaging));
            if (savepointTaken)
            {
                begin.BatchCommands.Add(new NpgsqlBatchCommand($"SAVEPOINT {RowsSavepoint}"));
            }

            await using var reader = await begin.ExecuteReaderAsync(cancellationToken);
            if (await AppliedBatch.ReadFoundAsync(reader, cancellationToken) is { } before)
            {
                return before with { Replayed = true };
            }

            if (fence > 0 && !(await reader.NextResultAsync(cancellationToken) && await RunFence.ReadAdmittedAsync(reader, fence, cancellationToken)))
            {
                return new LoadResult(batch.RowCount, 0, 0, 0, Replayed: false, Rejected: [], Superseded: true);
            }
        }

        // A change batch goes in as its deletes, then its upserts (ChangeRows says why); a batch of
        // upserts only is one run. Fast path per run: one COPY and one merge (or DELETE).
        // Only when the destination refuses a record does the run go through row isolation, inside
        // the same transaction. A truncate travels as a batch of its own, and so does the sweep that
        // ends a cdc refresh (its rows, marked as they load, are the whole source).
        var runs = truncate || sweep ? [] : ChangeRows.Split(batch, plan.KeyIndexes) ?? [new ChangeRun(Deletes: false, batch, Indexes: [])];
        var rejected = new List<RowRejection>();
        var counts = new MergeCounts();
        var deleted = truncate ? await ChangeDeletes.ApplyTruncateAsync(connection, plan, cancellationToken)
            : sweep ? await RefreshKeys.SweepAsync(connection, destination, marks!, markKeys, fence, cancellationToken)
            : 0;
        var isolated = false;
        for (var r = 0; r < runs.Count; r++)
        {
            var run = runs[r];
            if (run.Deletes)
            {
                // A delete whose row the destination no longer has (or has soft-deleted already) counts as skipped.
                deleted += await ChangeDeletes.ApplyAsync(connection, plan, run.Rows.Rows, cancellationToken);
                continue;
            }

            if (r > 0)
            {
                await using var clear = new NpgsqlCommand(plan.ClearStaging, connection);
                await clear.ExecuteNonQueryAsync(cancellationToken);
            }

            var whole = await TryApplyAsync(connection, transaction, plan, run.Rows.Rows, counts, clear: false, savepointTaken, cancellationToken);
            savepointTaken = false;
            if (whole is not null)
            {
                isolated = true;
                var refused = await IsolateAsync(connection, transaction, plan, run.Rows, counts, whole, cancellationToken);
                rejected.AddRange(refused.Select(x => new RowRejection(run.Indexes.Length > 0 ? run.Indexes[x.Row] : x.Row, RecordErrors.Describe(x.Error))));
            }
        }

        if (marks is not null && !sweep)
        {
            await RefreshKeys.MarkAsync(connection, marks, plan, batch, reloadStaging: isolated || runs is not [{ Deletes: false }], fence, cancellationToken);
        }

        if (discarded.Count > 0)
        {
            // Indexes of the rows loaded are into the batch without the rows set aside; a rejection names the batch's row.
            rejected = [.. rejected.Select(r => r with { RowIndex = kept[r.RowIndex] }), .. discarded];
            rejected.Sort((a, b) => a.RowIndex.CompareTo(b.RowIndex));
        }

        var applied = original.RowCount - rejected.Count;
        // A truncate is one change that may delete many rows: it is skipped only when it found none.
        var skipped = Math.Max(0, applied - counts.Inserted - counts.Updated - deleted);
        var result = new LoadResult(applied, counts.Inserted, counts.Updated, skipped, Replayed: false, rejected, Deleted: deleted, SchemaChanges: changes.Count == 0 ? null : changes);
        try
        {
            await AppliedBatch.RecordAsync(connection, job.Name, runId, extractionId, batchSeq, result, loadedBy, cancellationToken);
        }
        catch (PostgresException exception) when (AppliedBatch.IsDuplicate(exception))
        {
            // A concurrent delivery of this batch committed first; its counts are the batch's.
            await transaction.RollbackAsync(cancellationToken);
            var first = await AppliedBatch.FindAsync(connection, runId, extractionId, batchSeq, cancellationToken);
            return first! with { Replayed = true };
        }

        await transaction.CommitAsync(cancellationToken);
        return result;
    }

    /// <summary>
    /// Applies rows (whole tuples) under a savepoint: returns null and adds their counts, or rolls
    /// them back and returns the destination's reason when it refused a record (class 22 or 23).
    /// Other errors propagate and fail the batch's transaction. <paramref name="savepointTaken"/>: the
    /// savepoint was set already, with the transaction's first statements.
    /// </summary>
    private static async Task<PostgresException?> TryApplyAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, MergePlan plan, ReadOnlyMemory<byte> rows, MergeCounts counts, bool clear, bool savepointTaken, CancellationToken cancellationToken)
    {
        const string savepoint = RowsSavepoint;
        if (!savepointTaken)
        {
            await transaction.SaveAsync(savepoint, cancellationToken);
        }

        try
        {
            await using (var copy = await connection.BeginRawBinaryCopyAsync(plan.Copy, cancellationToken))
            {
                await copy.WriteAsync(CopyFormat.Header.ToArray(), cancellationToken);
                await copy.WriteAsync(rows, cancellationToken);
                await copy.WriteAsync(CopyFormat.Trailer.ToArray(), cancellationToken);
            }

            var sql = plan.MergeOfDistinctKeys is { } distinct && BatchKeys.AreDistinct(rows.Span, plan.ColumnCount, plan.KeyIndexes[0]) ? distinct : plan.Merge;
            await using (var merge = new NpgsqlCommand(sql, connection))
            await using (var reader = await merge.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                counts.Inserted += reader.GetInt32(0);
                counts.Updated += reader.GetInt32(1);
            }

            if (clear)
            {
                await using var delete = new NpgsqlCommand(plan.ClearStaging, connection);
                await delete.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.ReleaseAsync(savepoint, cancellationToken);
            return null;
        }
        catch (PostgresException exception) when (RecordErrors.IsRecordError(exception))
        {
            await transaction.RollbackAsync(savepoint, cancellationToken);
            return exception;
        }
    }

    /// <summary>
    /// Row isolation of a batch whose whole merge was refused. The merge keeps the last row of each
    /// key only among the rows it is given, so the rows a later row of the batch repeats the key of
    /// are left out first (they count as skipped, refused or not): otherwise an earlier range would
    /// apply them and a later one overwrite them, both counted, with the conflict strategy rather than
    /// the batch's order deciding.
    /// </summary>
    private static async Task<IReadOnlyList<(int Row, PostgresException Error)>> IsolateAsync(
        NpgsqlConnection connection, NpgsqlTransaction transaction, MergePlan plan, RecordBatch batch, MergeCounts counts, PostgresException whole, CancellationToken cancellationToken)
    {
        var kept = BatchKeys.LastRowPerKey(batch, plan.KeyIndexes);
        var rows = batch;
        var error = whole;
        if (kept.Length < batch.RowCount)
        {
            // The refused row may have been one of those left out: try the rest whole first.
            rows = BatchKeys.Select(batch, kept);
            if (await TryApplyAsync(connection, transaction, plan, rows.Rows, counts, clear: true, savepointTaken: false, cancellationToken) is not { } keptError)
            {
                return [];
            }

            error = keptError;
        }

        var tuples = TupleRanges(rows);
        var refused = await RowIsolation.IsolateAsync(
            tuples.Count,
            (start, length, token) => TryApplyAsync(
                connection, transaction, plan, rows.Rows.AsMemory(tuples[start].Start..tuples[start + length - 1].End), counts, clear: true, savepointTaken: false, token),
            cancellationToken,
            error);
        return [.. refused.Select(r => (kept[r.Row], r.Error))];
    }

    private static List<Range> TupleRanges(RecordBatch batch)
    {
        var ranges = new List<Range>(batch.RowCount);
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        while (reader.TryRead(fields, out _, out var tuple))
        {
            ranges.Add(tuple);
        }

        return ranges;
    }

    private const string RowsSavepoint = "sync_rows";

    private sealed class MergeCounts
    {
        public int Inserted { get; set; }

        public int Updated { get; set; }
    }

    // The plan of a batch shape is made once per process; the first batch of a shape fits the table to it
    // (DestinationTable) and reports what that changed. A table another process evolved fits already.
    private async Task<(MergePlan Plan, IReadOnlyList<string> Changes)> GetPlanAsync(NpgsqlConnection connection, JobSpec job, IReadOnlyList<BatchColumn> columns, CancellationToken cancellationToken)
    {
        var key = $"{connection.ConnectionString}|{job.Name}|{job.Destination.Table}|{job.Destination.Conflict}|{job.Destination.Deletes}:{job.Destination.SoftDeleteColumn}|{job.Destination.Schema}|{string.Join(",", job.Destination.Key)}|" + string.Join("|", columns.Select(c => $"{c.Name}:{c.TypeOid}"));
        if (_plans.TryGetValue(key, out var plan))
        {
            return (plan, []);
        }

        var fit = await DestinationTable.FitAsync(connection, job.Destination, columns, cancellationToken);
        var partitioned = await PostgresSchema.IsPartitionedAsync(connection, job.Destination.Table, cancellationToken);
        plan = MergePlan.Create(job.Destination, job.Source.Cursor.Length == 0 ? string.Empty : JobColumns.CursorTarget(job), columns, fit.Table, partitioned, ignoreUnknown: fit.Unknown.Count > 0);
        return (_plans.GetOrAdd(key, plan), fit.Changes);
    }

    // Under discard_row, the rows with a value in a column the table lacks, as rejections, and the indexes of the others.
    private static (List<RowRejection> Discarded, int[] Kept) DiscardedRows(DestinationSpec destination, MergePlan plan, RecordBatch batch)
    {
        if (destination.Schema != SchemaContract.DiscardRow || plan.Unknown.Count == 0)
        {
            return ([], []);
        }

        var unknown = plan.Unknown.Select(c => batch.Columns.ToList().FindIndex(b => b.Name == c)).ToArray();
        var discarded = new List<RowRejection>();
        var kept = new List<int>(batch.RowCount);
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        for (var i = 0; reader.TryRead(fields, out _, out _); i++)
        {
            var valued = unknown.Where(u => !fields[u].IsNull).Select(u => batch.Columns[u].Name).ToList();
            if (valued.Count == 0)
            {
                kept.Add(i);
            }
            else
            {
                discarded.Add(new RowRejection(i, $"destination.schema: discard_row: destination table {destination.Table} has no column {string.Join(", ", valued.Select(v => $"\"{v}\""))}"));
            }
        }

        return (discarded, [.. kept]);
    }
}
