using System.Text;
using Sync.Batches;
using Sync.Contracts;

namespace Sync.Connectors.Tests;

/// <summary>Batches built from text values, converted to their binary form as the Transformer's casts do.</summary>
internal static class SampleBatch
{
    public static readonly BatchColumn[] Columns =
    [
        new("id", 20), new("updated_at", PgTypes.TimestampTz), new("total", 1700), new("note", PgTypes.Text), new("day", 1082),
    ];

    /// <summary>Rows of (id, updated_at, total, note, day) as PostgreSQL text; null for SQL null.</summary>
    public static RecordBatch Of(params string?[][] rows) => Of(Columns, rows);

    /// <summary>Rows of <paramref name="columns"/> as PostgreSQL text; null for SQL null.</summary>
    public static RecordBatch Of(BatchColumn[] columns, params string?[][] rows)
    {
        var buffer = new TupleBuffer();
        foreach (var row in rows)
        {
            buffer.BeginTuple(columns.Length);
            for (var i = 0; i < columns.Length; i++)
            {
                var value = row[i] is { } text ? PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(text), columns[i].TypeOid) : null;
                buffer.AppendField(value, value is null);
            }
        }

        return new RecordBatch(columns, rows.Length, buffer.ToArray());
    }
}
