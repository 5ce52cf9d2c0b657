using Sync.Batches;
using Sync.Contracts;

namespace Sync.Connectors;

/// <summary>
/// A batch decoded into CLR values for destinations that are not PostgreSQL (Parquet, JSON lines,
/// DuckDB). A row with a value the target type cannot hold is left out and reported by index.
/// </summary>
internal sealed class TypedRows
{
    private TypedRows(IReadOnlyList<BatchColumn> columns, Type[] types, List<object?[]> rows, List<RowRejection> rejected)
    {
        Columns = columns;
        Types = types;
        Rows = rows;
        Rejected = rejected;
    }

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
            }
            else
            {
                rejected.Add(new RowRejection(index, error));
            }
        }

        return new TypedRows(batch.Columns, types, rows, rejected);
    }
}
