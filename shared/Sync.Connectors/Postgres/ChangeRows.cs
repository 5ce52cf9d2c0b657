using Sync.Batches;
using Sync.Contracts;

namespace Sync.Connectors.Postgres;

/// <summary>
/// A change batch (one with <see cref="RecordBatch.Operations"/>) split into its upserts, which load
/// through the ordinary COPY and merge, and its deletes; the upserts keep their batch row indexes so
/// a refused record is reported under its own index.
/// </summary>
internal sealed record ChangeRows(RecordBatch Upserts, int[] UpsertIndexes, byte[] Deletes, int DeleteCount)
{
    /// <summary>Null when every row is an upsert.</summary>
    public static ChangeRows? Split(RecordBatch batch)
    {
        if (batch.Operations is not { } operations || !operations.Contains(RowOperations.Delete))
        {
            return null;
        }

        var upserts = new TupleBuffer(batch.Rows.Length);
        var deletes = new TupleBuffer(4096);
        var indexes = new List<int>(batch.RowCount);
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        for (var i = 0; reader.TryRead(fields, out _, out var tuple); i++)
        {
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
