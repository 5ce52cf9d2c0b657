using System.Text;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Sdk;

namespace Sync.Connectors.Code;

/// <summary>
/// The batch schema of a C# source and the encoding of its records into it: cursor, primary key, then
/// the other columns of the source's schema, so a position is the first fields.
/// </summary>
internal sealed class CodeSourceLayout
{
    private readonly SyncSchema _schema;
    private readonly SyncColumn[] _columns;

    public CodeSourceLayout(SourceSpec source, SyncSchema schema)
    {
        _schema = schema;
        var names = schema.Columns.Select(c => c.Name).ToList();
        var order = new List<string> { source.Cursor };
        order.AddRange(source.PrimaryKey.Where(k => !order.Contains(k)));
        PositionLength = order.Count;
        foreach (var column in order.Where(c => !names.Contains(c)))
        {
            throw new SourceSchemaException($"source.{(column == source.Cursor ? "cursor" : "primary_key")}: the C# source \"{source.Table}\" has no column \"{column}\" (columns: {string.Join(", ", names)}); name one of its columns.");
        }

        order.AddRange(names.Where(c => !order.Contains(c)));
        _columns = [.. order.Select(c => schema.Columns[schema.IndexOf(c)])];
        foreach (var column in _columns.Where(c => c.Type == SyncType.Other))
        {
            throw new SourceSchemaException($"The C# source \"{source.Table}\" declares column \"{column.Name}\" of type Other; declare a SyncType it can set.");
        }

        Columns = [.. _columns.Select(c => new BatchColumn(c.Name, SdkValueCodec.OidOf(c.Type)))];
        foreach (var column in Columns.Take(PositionLength).Where(c => !PgTypes.IsCursorType(c.TypeOid)))
        {
            throw new SourceSchemaException($"\"{column.Name}\" of the C# source \"{source.Table}\" is {PgTypes.SqlName(column.TypeOid)}, which cannot order a cursor or identify a record; declare it TimestampTz, Int64, Int32, Numeric, Date, Text or Uuid.");
        }
    }

    public IReadOnlyList<BatchColumn> Columns { get; }

    public int PositionLength { get; }

    /// <summary>The record's values in binary form and its position as CLR values; false with the reason when one does not fit.</summary>
    public bool TryEncode(SyncRecord record, byte[]?[] values, out object[] position, out string error)
    {
        position = new object[PositionLength];
        var typed = SyncRecord.Create(_schema);
        for (var i = 0; i < _columns.Length; i++)
        {
            var column = _columns[i];
            var at = record.Schema.IndexOf(column.Name);
            var value = at >= 0 && at < record.Values.Length ? record.Values[at] : null;
            if (value is null)
            {
                if (i < PositionLength)
                {
                    error = $"column {column.Name} is null; cursor and primary-key columns must have a value";
                    return false;
                }

                values[i] = null;
                continue;
            }

            try
            {
                // Set converts the way a source's own Set calls do, and refuses what does not fit.
                typed.Set(column.Name, value);
                var clr = typed.Values[_schema.IndexOf(column.Name)]!;
                values[i] = SdkValueCodec.Encode(column.Type, clr);
                if (i < PositionLength)
                {
                    position[i] = clr;
                }
            }
            catch (Exception exception) when (exception is InvalidCastException or OverflowException or ValueCastException or ArgumentException)
            {
                error = $"column {column.Name}: {exception.Message}";
                return false;
            }
        }

        error = "";
        return true;
    }

    /// <summary>A stored position as CLR values, for comparing records with it.</summary>
    public object[] Decode(CursorPosition position) =>
        [.. position.Values.Take(PositionLength).Select((v, i) => SdkValueCodec.Decode(Columns[i].TypeOid, PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(v), Columns[i].TypeOid)))];

    /// <summary>The position in PostgreSQL text form, as watermarks are stored.</summary>
    public CursorPosition PositionOf(object[] position) =>
        new([.. position.Select((v, i) => PgValueText.Format(Columns[i].TypeOid, SdkValueCodec.Encode(_columns[i].Type, v)))]);

    /// <summary>Orders two positions as PostgreSQL would: cursor, then key (text ordinally, uuid by its bytes).</summary>
    public static int Compare(object[] a, object[] b)
    {
        for (var i = 0; i < Math.Min(a.Length, b.Length); i++)
        {
            var order = (a[i], b[i]) switch
            {
                (string s, string t) => string.CompareOrdinal(s, t),
                // PostgreSQL orders uuids by their bytes, which Guid.CompareTo does not.
                (Guid g, Guid h) => g.ToByteArray(bigEndian: true).AsSpan().SequenceCompareTo(h.ToByteArray(bigEndian: true)),
                var (x, y) => Comparer<object>.Default.Compare(x, y),
            };
            if (order != 0)
            {
                return order;
            }
        }

        return 0;
    }
}
