using Sync.Batches;
using Sync.Contracts;

namespace Sync.Connectors.Postgres;

/// <summary>
/// A change batch (one with <see cref="RecordBatch.Operations"/>) split into its upserts, which load
/// through the ordinary COPY and merge, and its deletes; the upserts keep their batch row indexes so
/// a refused record is reported under its own index. Only the last change of each destination key
/// is kept (the others count as skipped): the deletes go in after the upserts, so an upsert that
/// follows a delete of its key in the batch would otherwise be deleted. The source's batcher keeps
/// one change per source key, but the destination key can differ (an explicit <c>key:</c>, a
/// transform).
/// </summary>
internal sealed record ChangeRows(RecordBatch Upserts, int[] UpsertIndexes, byte[] Deletes, int DeleteCount)
{
    /// <summary>Null when every row is an upsert (the merge keeps the last row of each key itself).</summary>
    public static ChangeRows? Split(RecordBatch batch, IReadOnlyList<int> keyIndexes)
    {
        if (batch.Operations is not { } operations || !operations.Contains(RowOperations.Delete))
        {
            return null;
        }

        var kept = BatchKeys.LastRowPerKey(batch, keyIndexes);
        var next = 0;
        var upserts = new TupleBuffer(batch.Rows.Length);
        var deletes = new TupleBuffer(4096);
        var indexes = new List<int>(batch.RowCount);
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        for (var i = 0; reader.TryRead(fields, out _, out var tuple); i++)
        {
            if (next == kept.Length || kept[next] != i)
            {
                continue;
            }

            next++;
            if (operations[i] == RowOperations.Delete)
            {
                deletes.AppendTuple(batch.Rows.AsSpan(tuple));
            }
            else
            {
                upserts.AppendTuple(batch.Rows.AsSpan(tuple));
                indexes.Add(i);
            }
        }

        return new ChangeRows(
            batch with { RowCount = upserts.RowCount, Rows = upserts.ToArray(), Operations = null },
            [.. indexes],
            deletes.ToArray(),
            deletes.RowCount);
    }
}
