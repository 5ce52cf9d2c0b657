using Sync.Batches;
using Sync.Contracts;

namespace Sync.Connectors.Postgres;

/// <summary>
/// A change batch (one with <see cref="RecordBatch.Operations"/>) cut into consecutive runs of one
/// operation, to be applied in the batch's order: upserts through the ordinary COPY and merge,
/// deletes through <see cref="ChangeDeletes"/>. Applying all upserts before all deletes let the
/// destination pass through a state the source never had: <c>DELETE id=1 (email x)</c> then
/// <c>INSERT id=2 (email x)</c> hit a secondary unique index on email, and id 2 became a dead letter
/// (issue 14, item 5). Only the last change of each destination key is kept (the others count as
/// skipped), so no run touches a key twice. The source's batcher keeps one change per source key,
/// but the destination key can differ (an explicit <c>key:</c>, a transform).
/// </summary>
internal static class ChangeRows
{
    /// <summary>Null when every row is an upsert (the merge keeps the last row of each key itself, in one run).</summary>
    public static IReadOnlyList<ChangeRun>? Split(RecordBatch batch, IReadOnlyList<int> keyIndexes)
    {
        if (batch.Operations is not { } operations || !operations.Contains(RowOperations.Delete))
        {
            return null;
        }

        var kept = BatchKeys.LastRowPerKey(batch, keyIndexes);
        var runs = new List<ChangeRun>();
        var next = 0;
        var rows = new TupleBuffer(4096);
        var indexes = new List<int>();
        var deletes = false;
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        for (var i = 0; reader.TryRead(fields, out _, out var tuple); i++)
        {
            if (next == kept.Length || kept[next] != i)
            {
                continue;
            }

            next++;
            var delete = operations[i] == RowOperations.Delete;
            if (delete != deletes && indexes.Count > 0)
            {
                runs.Add(Run(batch, deletes, rows, indexes));
                rows = new TupleBuffer(4096);
                indexes = [];
            }

            deletes = delete;
            rows.AppendTuple(batch.Rows.AsSpan(tuple));
            indexes.Add(i);
        }

        if (indexes.Count > 0)
        {
            runs.Add(Run(batch, deletes, rows, indexes));
        }

        return runs;
    }

    private static ChangeRun Run(RecordBatch batch, bool deletes, TupleBuffer rows, List<int> indexes) =>
        new(deletes, batch with { RowCount = rows.RowCount, Rows = rows.ToArray(), Operations = null }, [.. indexes]);
}

/// <summary>
/// Consecutive changes of one operation: their rows (tuples as in the batch, no operations) and
/// each row's index in the batch, so a refused record is reported under its own index.
/// </summary>
internal sealed record ChangeRun(bool Deletes, RecordBatch Rows, int[] Indexes);
