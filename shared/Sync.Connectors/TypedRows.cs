using Sync.Batches;
using Sync.Contracts;

namespace Sync.Connectors;

/// <summary>
/// A batch decoded into CLR values for destinations that are not PostgreSQL (Parquet, JSON lines,
/// DuckDB). A row with a value the target type cannot hold is left out and reported by index.
/// </summary>
internal sealed class TypedRows
{
    private TypedRows(IReadOnlyList<BatchColumn> columns, Type[] types, List<object?[]> rows, List<RowRejection> rejected, List<int> indexes)
    {
        Columns = columns;
        Types = types;
        Rows = rows;
        Rejected = rejected;
        _indexes = indexes;
        _types = types;
    }

    private readonly List<int> _indexes;
    private readonly Type[] _types;

    public IReadOnlyList<BatchColumn> Columns { get; }

    public IReadOnlyList<Type> Types { get; }

    public IReadOnlyList<object?[]> Rows { get; }

    public IReadOnlyList<RowRejection> Rejected { get; }

    public static TypedRows Decode(RecordBatch batch)
    {
        var types = batch.Columns
            .Select(c => PgValueObject.ClrType(c.TypeOid)
                ?? throw new DestinationSchemaException($"Column \"{c.Name}\" has PostgreSQL type {PgTypes.SqlName(c.TypeOid)}, which this destination does not store; cast it under columns: (e.g. to text)."))
            .ToArray();
        var rows = new List<object?[]>(batch.RowCount);
        var indexes = new List<int>(batch.RowCount);
        var rejected = new List<RowRejection>();
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        for (var index = 0; reader.TryRead(fields, out var count, out _); index++)
        {
            var values = new object?[fields.Length];
            string? error = null;
            for (var i = 0; i < count && error is null; i++)
            {
                if (fields[i].IsNull)
                {
                    continue;
                }

                try
                {
                    values[i] = PgValueObject.Read(batch.Columns[i].TypeOid, fields[i].Of(batch.Rows));
                }
                catch (FormatException exception)
                {
                    error = $"column \"{batch.Columns[i].Name}\": {exception.Message}";
                }
            }

            if (error is null)
            {
                rows.Add(values);
                indexes.Add(index);
            }
            else
            {
                rejected.Add(new RowRejection(index, error));
            }
        }

        return new TypedRows(batch.Columns, types, rows, rejected, indexes);
    }

    /// <summary>These rows without those <paramref name="reason"/> gives a reason for, which join the rejected (by their index in the batch).</summary>
    public TypedRows SetAside(Func<object?[], string?> reason)
    {
        var rows = new List<object?[]>(Rows.Count);
        var indexes = new List<int>(Rows.Count);
        var rejected = new List<RowRejection>(Rejected);
        for (var i = 0; i < Rows.Count; i++)
        {
            if (reason(Rows[i]) is { } why)
            {
                rejected.Add(new RowRejection(_indexes[i], why));
            }
            else
            {
                rows.Add(Rows[i]);
                indexes.Add(_indexes[i]);
            }
        }

        rejected.Sort((a, b) => a.RowIndex.CompareTo(b.RowIndex));
        return new TypedRows(Columns, _types, rows, rejected, indexes);
    }
}
