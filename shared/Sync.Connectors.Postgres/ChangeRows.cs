using Sync.Batches;
using Sync.Contracts;

namespace Sync.Connectors.Postgres;

/// <summary>
/// A change batch (one with <see cref="RecordBatch.Operations"/>) cut into at most two runs: its
/// deletes, applied first through <see cref="ChangeDeletes"/>, then its upserts through the ordinary
/// COPY and merge. Only the last change of each destination key is kept (the others count as
/// skipped), so no run touches a key twice and the order between keys is all that is left; deletes
/// first is the order a unique index needs. Upserts before deletes hit it: <c>DELETE id=1 (email x)</c>
/// then <c>INSERT id=2 (email x)</c> made id 2 a dead letter (issue 14, item 5). Batch order did not
/// always do: an update that frees id 1's email, an insert of id 2 that takes it, then the delete of
/// id 1 keep only id 1's delete, after id 2's insert. And a batch whose changes alternate between
/// deletes and upserts was one DELETE and one merge per alternation (a cdc batch of 1,000 writer
/// transactions of an update, a delete and two inserts: hundreds of statements, each scanning the
/// destination). A delete never conflicts, and every upsert's key is not deleted in the batch. The
/// source's batcher keeps one change per source key, but the destination key can differ (an explicit
/// <c>key:</c>, a transform).
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
        var (deletes, deleteIndexes) = (new TupleBuffer(4096), new List<int>());
        var (upserts, upsertIndexes) = (new TupleBuffer(4096), new List<int>());
        var next = 0;
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
            (delete ? deletes : upserts).AppendTuple(batch.Rows.AsSpan(tuple));
            (delete ? deleteIndexes : upsertIndexes).Add(i);
        }

        var runs = new List<ChangeRun>(2);
        if (deleteIndexes.Count > 0)
        {
            runs.Add(Run(batch, deletes: true, deletes, deleteIndexes));
        }

        if (upsertIndexes.Count > 0)
        {
            runs.Add(Run(batch, deletes: false, upserts, upsertIndexes));
        }

        return runs;
    }

    private static ChangeRun Run(RecordBatch batch, bool deletes, TupleBuffer rows, List<int> indexes) =>
        new(deletes, batch with { RowCount = rows.RowCount, Rows = rows.ToArray(), Operations = null }, [.. indexes]);
}

/// <summary>
/// The changes of one operation: their rows (tuples as in the batch, no operations) and each row's
/// index in the batch, so a refused record is reported under its own index.
/// </summary>
internal sealed record ChangeRun(bool Deletes, RecordBatch Rows, int[] Indexes);
