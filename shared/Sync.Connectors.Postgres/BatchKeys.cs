using Sync.Batches;
using Sync.Contracts;

namespace Sync.Connectors.Postgres;

/// <summary>
/// The destination keys of a batch's rows, compared by their field bytes (equal values in one type
/// have equal binary forms), for the steps that cannot leave a repeated key to the merge: the
/// ranges of a row isolation, and a change batch whose upserts and deletes go in separately.
/// </summary>
internal static class BatchKeys
{
    /// <summary>
    /// The indexes, in order, of the rows whose key no later row of the batch repeats. A row with a
    /// null key field repeats no other, as in a unique index.
    /// </summary>
    public static int[] LastRowPerKey(RecordBatch batch, IReadOnlyList<int> keyIndexes)
    {
        var keys = new string?[batch.RowCount];
        var last = new Dictionary<string, int>(batch.RowCount, StringComparer.Ordinal);
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        for (var i = 0; reader.TryRead(fields, out _, out _); i++)
        {
            if (Key(batch.Rows, fields, keyIndexes) is { } key)
            {
                keys[i] = key;
                last[key] = i;
            }
        }

        return [.. Enumerable.Range(0, batch.RowCount).Where(i => keys[i] is not { } key || last[key] == i)];
    }

    /// <summary>
    /// Whether equal values of the type have one binary form and unequal values another, so a key of
    /// it repeats exactly when its bytes do: integers, dates, timestamps, uuid. Not numeric (1.0 and
    /// 1.00 differ in scale), floats (-0 and 0), text (a non-deterministic collation) or bpchar (padding).
    /// </summary>
    public static bool HasExactBinaryEquality(uint typeOid) =>
        typeOid is 20 or 21 or 23 or PgTypes.Date or PgTypes.Timestamp or PgTypes.TimestampTz or 2950;

    /// <summary>
    /// Whether no two of <paramref name="rows"/> (binary COPY tuples of <paramref name="columnCount"/>
    /// fields) have the same value in the key column <paramref name="keyIndex"/>, of a type with
    /// <see cref="HasExactBinaryEquality"/>, and none a null there (false then: a null key is kept
    /// apart by the merge's DISTINCT ON).
    /// </summary>
    public static bool AreDistinct(ReadOnlySpan<byte> rows, int columnCount, int keyIndex)
    {
        // A tuple is at least its field count and one length per field.
        var seen = new HashSet<Int128>(rows.Length / (2 + (4 * columnCount)));
        var fields = new FieldSlice[columnCount];
        Span<byte> value = stackalloc byte[16];
        var reader = new TupleReader(rows);
        while (reader.TryRead(fields, out _, out _))
        {
            var field = fields[keyIndex];
            if (field.IsNull || field.Length > 16)
            {
                return false;
            }

            value.Clear();
            field.Of(rows).CopyTo(value);
            if (!seen.Add(System.Buffers.Binary.BinaryPrimitives.ReadInt128LittleEndian(value)))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The batch with only the rows at <paramref name="rows"/> (ascending), their tuples copied as they are.</summary>
    public static RecordBatch Select(RecordBatch batch, IReadOnlyList<int> rows)
    {
        var buffer = new TupleBuffer(batch.Rows.Length);
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        var next = 0;
        for (var i = 0; next < rows.Count && reader.TryRead(fields, out _, out var tuple); i++)
        {
            if (rows[next] == i)
            {
                buffer.AppendTuple(batch.Rows.AsSpan(tuple));
                next++;
            }
        }

        return batch with
        {
            RowCount = buffer.RowCount,
            Rows = buffer.ToArray(),
            Operations = batch.Operations is { } operations ? [.. rows.Select(r => operations[r])] : null,
        };
    }

    private static string? Key(byte[] rows, FieldSlice[] fields, IReadOnlyList<int> keyIndexes)
    {
        var key = new System.Text.StringBuilder();
        foreach (var index in keyIndexes)
        {
            if (fields[index].IsNull)
            {
                return null;
            }

            key.Append(Convert.ToHexString(fields[index].Of(rows))).Append('|');
        }

        return key.ToString();
    }
}
