using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Expressions;

namespace Sync.Transformer;

/// <summary>
/// A cdc change batch may lack source columns the job reads: an update that left a large (TOASTed)
/// value unchanged does not carry it, and the destination keeps its value (the Extractor's batcher
/// sends such changes in a batch without the column). The transform then writes only what it can
/// compute from what the batch carries: an output column that reads a missing column is left out
/// (so the destination keeps it too), never written from a null that is not the source's value. A
/// filter or lookup key that reads a missing column cannot decide a record: the batch's upserts are
/// set aside with the reason, its deletes go on.
/// </summary>
internal static class CarriedColumns
{
    public static bool Lacks(TransformSpec spec, RecordBatch batch) =>
        batch.Operations is not null && Reads(spec).Any(c => !Has(batch, c));

    /// <summary>The mapping without the output columns that read a column the batch lacks.</summary>
    public static TransformSpec Narrow(TransformSpec spec, RecordBatch batch)
    {
        var lookups = (spec.Lookups ?? []).Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        return spec with { Columns = [.. spec.Columns.Where(m => ReadsOf(m).All(c => lookups.Contains(c) || Has(batch, c)))] };
    }

    /// <summary>The reason the batch's upserts cannot be transformed, or null.</summary>
    public static string? Undecidable(TransformSpec spec, RecordBatch batch)
    {
        var lookups = (spec.Lookups ?? []).Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        var filter = spec.Filter is { } f ? Expression.Parse(f).Columns.Where(c => !lookups.Contains(c)) : [];
        var missing = filter.Concat((spec.Lookups ?? []).Select(l => l.Key)).Where(c => !Has(batch, c)).Distinct(StringComparer.Ordinal).ToList();
        return missing.Count == 0
            ? null
            : $"the change did not carry {string.Join(", ", missing.Select(c => $"\"{c}\""))} (an unchanged large value), which the filter or a lookup reads; set REPLICA IDENTITY FULL on the source table so later changes carry it, then replay";
    }

    /// <summary>A batch of the deletes only, and the upserts set aside with <paramref name="reason"/>.</summary>
    public static (RecordBatch Deletes, List<RejectedRecord> Rejected) SetAsideUpserts(RecordBatch batch, string reason)
    {
        var deletes = new TupleBuffer(batch.Rows.Length);
        var operations = new List<byte>();
        var rejected = new List<RejectedRecord>();
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        for (var i = 0; reader.TryRead(fields, out _, out var tuple); i++)
        {
            if (!RowOperations.IsUpsert(batch.Operations![i]))
            {
                deletes.AppendTuple(batch.Rows.AsSpan(tuple));
                operations.Add(batch.Operations[i]);
            }
            else
            {
                rejected.Add(new RejectedRecord(RecordTransform.Stage, i, reason, new RecordBatch(batch.Columns, 1, batch.Rows[tuple], [RowOperations.Upsert])));
            }
        }

        return (batch with { RowCount = deletes.RowCount, Rows = deletes.ToArray(), Operations = [.. operations] }, rejected);
    }

    /// <summary>For a batch of deletes only: key copies are all that is written.</summary>
    public static TransformSpec ForDeletes(TransformSpec spec, RecordBatch batch) =>
        spec with
        {
            Columns = [.. spec.Columns.Where(m => m.Expression is null && Has(batch, m.Source))],
            Filter = null,
            Lookups = null,
        };

    private static IEnumerable<string> Reads(TransformSpec spec)
    {
        var lookups = (spec.Lookups ?? []).Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        var reads = spec.Columns.SelectMany(ReadsOf)
            .Concat(spec.Filter is { } f ? Expression.Parse(f).Columns : [])
            .Concat((spec.Lookups ?? []).Select(l => l.Key));
        return reads.Where(c => !lookups.Contains(c));
    }

    private static IEnumerable<string> ReadsOf(ColumnMapping mapping) =>
        mapping.Expression is { } expression ? Expression.Parse(expression).Columns : [mapping.Source];

    private static bool Has(RecordBatch batch, string column) => batch.Columns.Any(c => c.Name == column);
}
