using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors;

/// <summary>
/// Turns JSON records into batch tuples: each field found by its dotted path, rendered as text and
/// parsed as its declared type the way a SQL cast from text would (<see cref="PgValueCast"/>). The
/// columns are the cursor, the primary key, then the other fields, so a position is the first fields.
/// </summary>
internal sealed class JsonRecords
{
    private readonly SourceField[] _fields;
    private readonly uint[] _oids;

    public JsonRecords(SourceSpec source, IReadOnlyList<SourceField> fields)
    {
        var byName = fields.ToDictionary(f => f.Column, StringComparer.Ordinal);
        var order = new List<string> { source.Cursor };
        order.AddRange(source.PrimaryKey.Where(k => !order.Contains(k)));
        PositionLength = order.Count;
        order.AddRange(fields.Select(f => f.Column).Where(c => !order.Contains(c)));
        _fields = [.. order.Select(c => byName.TryGetValue(c, out var f) ? f : throw new SourceSchemaException($"source.{c} is not a column under source.fields."))];
        _oids = [.. _fields.Select(f => PgValueCast.TargetOid(f.Type))];
        Columns = [.. _fields.Select((f, i) => new BatchColumn(f.Column, _oids[i]))];
        foreach (var (field, oid) in _fields.Zip(_oids).Take(PositionLength).Where(p => !PgTypes.IsCursorType(p.Second)))
        {
            throw new SourceSchemaException($"\"{field.Column}\" is declared {field.Type}, which cannot order a cursor or identify a record; declare it timestamptz, bigint, integer, numeric, date, text or uuid.");
        }

        if (source.Lookback > TimeSpan.Zero && _oids[0] != PgTypes.TimestampTz)
        {
            throw new SourceSchemaException($"source.lookback needs a timestamptz cursor, but \"{source.Cursor}\" is declared {_fields[0].Type}; remove lookback or declare the cursor timestamptz.");
        }
    }

    /// <summary>The schema of the batches: one column per field, in the types the fields declare.</summary>
    public IReadOnlyList<BatchColumn> Columns { get; }

    public int PositionLength { get; }

    public uint CursorOid => _oids[0];

    /// <summary>The record's values in binary form; false with the reason when one does not fit its type.</summary>
    public bool TryEncode(JsonElement record, byte[]?[] values, out string error)
    {
        if (record.ValueKind != JsonValueKind.Object)
        {
            error = $"the record is a JSON {Describe(record.ValueKind)}, not an object";
            return false;
        }

        for (var i = 0; i < _fields.Length; i++)
        {
            var field = _fields[i];
            if (!TryFind(record, field.Path, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                if (i < PositionLength)
                {
                    error = $"field {field.Path} ({field.Column}) is missing or null; cursor and primary-key fields must have a value";
                    return false;
                }

                values[i] = null;
                continue;
            }

            string text;
            switch (value.ValueKind)
            {
                case JsonValueKind.String:
                    text = value.GetString()!;
                    break;
                case JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False:
                    text = value.GetRawText();
                    break;
                case JsonValueKind.Object or JsonValueKind.Array when _oids[i] == PgTypes.Text:
                    text = value.GetRawText();
                    break;
                default:
                    error = $"field {field.Path} ({field.Column}) is a JSON {Describe(value.ValueKind)}, expected {field.Type}";
                    return false;
            }

            try
            {
                values[i] = PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(text), _oids[i]);
            }
            catch (ValueCastException exception)
            {
                error = $"field {field.Path} ({field.Column}): {exception.Message}";
                return false;
            }
        }

        error = "";
        return true;
    }

    /// <summary>The position of encoded values: the first <see cref="PositionLength"/> in PostgreSQL text form.</summary>
    public CursorPosition PositionOf(byte[]?[] values) =>
        new([.. values.Take(PositionLength).Select((v, i) => PgValueText.Format(_oids[i], v))]);

    /// <summary>The binary form of a stored position's values, for comparing records with it.</summary>
    public byte[][] Encode(CursorPosition position) =>
        [.. position.Values.Take(PositionLength).Select((v, i) => PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(v), _oids[i]))];

    /// <summary>Orders two positions (binary values) as the source orders them: cursor, then key.</summary>
    public int Compare(IReadOnlyList<byte[]?> a, IReadOnlyList<byte[]?> b)
    {
        for (var i = 0; i < PositionLength; i++)
        {
            var order = CompareValue(_oids[i], a[i]!, b[i]!);
            if (order != 0)
            {
                return order;
            }
        }

        return 0;
    }

    /// <summary>The cursor value as the API's since parameter: ISO 8601 for a timestamp, the text form otherwise.</summary>
    public string SinceValue(byte[] cursor, TimeSpan lookback) => CursorOid == PgTypes.TimestampTz
        ? new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(BinaryPrimitives.ReadInt64BigEndian(cursor) * 10).Subtract(lookback)
            .ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture)
        : PgValueText.Format(CursorOid, cursor);

    /// <summary>The element at a dotted path ("" is the element itself).</summary>
    public static bool TryFind(JsonElement element, string path, out JsonElement found)
    {
        found = element;
        if (path.Length == 0)
        {
            return true;
        }

        foreach (var name in path.Split('.'))
        {
            if (found.ValueKind != JsonValueKind.Object || !found.TryGetProperty(name, out found))
            {
                return false;
            }
        }

        return true;
    }

    private static int CompareValue(uint oid, byte[] a, byte[] b) => oid switch
    {
        20 or 1184 => BinaryPrimitives.ReadInt64BigEndian(a).CompareTo(BinaryPrimitives.ReadInt64BigEndian(b)),
        23 or 1082 => BinaryPrimitives.ReadInt32BigEndian(a).CompareTo(BinaryPrimitives.ReadInt32BigEndian(b)),
        21 => BinaryPrimitives.ReadInt16BigEndian(a).CompareTo(BinaryPrimitives.ReadInt16BigEndian(b)),
        1700 => decimal.Parse(PgValueText.Format(oid, a), CultureInfo.InvariantCulture).CompareTo(decimal.Parse(PgValueText.Format(oid, b), CultureInfo.InvariantCulture)),
        701 => BinaryPrimitives.ReadDoubleBigEndian(a).CompareTo(BinaryPrimitives.ReadDoubleBigEndian(b)),
        _ => a.AsSpan().SequenceCompareTo(b),
    };

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "object",
        JsonValueKind.Array => "array",
        JsonValueKind.String => "string",
        JsonValueKind.Number => "number",
        JsonValueKind.True or JsonValueKind.False => "boolean",
        _ => "null",
    };
}
