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
    public static RecordBatch Of(params string?[][] rows)
    {
        var buffer = new TupleBuffer();
        foreach (var row in rows)
        {
            buffer.BeginTuple(Columns.Length);
            for (var i = 0; i < Columns.Length; i++)
            {
                var value = row[i] is { } text ? PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(text), Columns[i].TypeOid) : null;
                buffer.AppendField(value, value is null);
            }
        }

        return new RecordBatch(Columns, rows.Length, buffer.ToArray());
    }
}
