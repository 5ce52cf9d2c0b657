using System.Text.Json;
using System.Text.Json.Nodes;
using Sync.Batches;
using Sync.Contracts;

namespace Sync.Coordinator.DeadLetters;

/// <summary>A dead record for people: each column's value in PostgreSQL text form (hex for types without one here).</summary>
internal static class RecordText
{
    public static string Render(RecordBatch record)
    {
        var json = new JsonObject();
        var fields = new FieldSlice[record.Columns.Count];
        var reader = new TupleReader(record.Rows);
        if (reader.TryRead(fields, out var count, out _))
        {
            for (var i = 0; i < count && i < record.Columns.Count; i++)
            {
                var column = record.Columns[i];
                json[column.Name] = fields[i].IsNull ? null : JsonValue.Create(Format(column.TypeOid, fields[i].Of(record.Rows)));
            }
        }

        return json.ToJsonString();
    }

    public static string Columns(RecordBatch record) => JsonSerializer.Serialize(record.Columns);

    /// <summary>The record back as a one-row batch, for a replay.</summary>
    public static RecordBatch Restore(string columns, byte[] tuple) =>
        new(JsonSerializer.Deserialize<List<BatchColumn>>(columns) ?? [], 1, tuple);

    private static string Format(uint oid, ReadOnlySpan<byte> value)
    {
        try
        {
            return PgValueText.Format(oid, value);
        }
        catch (NotSupportedException)
        {
            return "\\x" + Convert.ToHexStringLower(value);
        }
    }
}
