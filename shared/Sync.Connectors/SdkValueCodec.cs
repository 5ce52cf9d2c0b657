using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Sync.Batches;
using Sync.Sdk;

namespace Sync.Connectors;

/// <summary>
/// Between binary COPY fields and the CLR values a <see cref="SyncRecord"/> holds, for C# sources,
/// sinks and transforms alike. Not <see cref="PgValueObject"/>: that one gives Parquet and DuckDB
/// the values they store (a uuid as text, a timestamp always UTC), and refuses infinite dates.
/// </summary>
public static class SdkValueCodec
{
    private static readonly DateTime PgEpoch = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static SyncType TypeOf(uint oid) => oid switch
    {
        16 => SyncType.Boolean,
        21 => SyncType.Int16,
        23 => SyncType.Int32,
        20 => SyncType.Int64,
        1700 => SyncType.Numeric,
        701 => SyncType.Double,
        25 or 1042 or 1043 => SyncType.Text,
        1082 => SyncType.Date,
        1114 => SyncType.Timestamp,
        1184 => SyncType.TimestampTz,
        2950 => SyncType.Uuid,
        _ => SyncType.Other,
    };

    public static uint OidOf(SyncType type) => type switch
    {
        SyncType.Boolean => 16,
        SyncType.Int16 => 21,
        SyncType.Int32 => 23,
        SyncType.Int64 => 20,
        SyncType.Numeric => 1700,
        SyncType.Double => 701,
        SyncType.Date => 1082,
        SyncType.Timestamp => 1114,
        SyncType.TimestampTz => 1184,
        SyncType.Uuid => 2950,
        _ => 25,
    };

    /// <summary>The field as a CLR value; a column of type <see cref="SyncType.Other"/> keeps its bytes.</summary>
    public static object Decode(uint oid, ReadOnlySpan<byte> field) => TypeOf(oid) switch
    {
        SyncType.Boolean => field[0] != 0,
        SyncType.Int16 => BinaryPrimitives.ReadInt16BigEndian(field),
        SyncType.Int32 => BinaryPrimitives.ReadInt32BigEndian(field),
        SyncType.Int64 => BinaryPrimitives.ReadInt64BigEndian(field),
        SyncType.Numeric => decimal.TryParse(PgValueText.Format(1700, field), NumberStyles.Number, CultureInfo.InvariantCulture, out var d)
            ? d
            : throw new ValueCastException("a numeric value does not fit a C# decimal"),
        SyncType.Double => BinaryPrimitives.ReadDoubleBigEndian(field),
        SyncType.Text => Encoding.UTF8.GetString(field),
        SyncType.Date => DateOnly.FromDateTime(PgEpoch.AddDays(BinaryPrimitives.ReadInt32BigEndian(field))),
        SyncType.Timestamp => DateTime.SpecifyKind(PgEpoch.AddTicks(BinaryPrimitives.ReadInt64BigEndian(field) * 10), DateTimeKind.Unspecified),
        SyncType.TimestampTz => PgEpoch.AddTicks(BinaryPrimitives.ReadInt64BigEndian(field) * 10),
        SyncType.Uuid => new Guid(field, bigEndian: true),
        _ => field.ToArray(),
    };

    public static byte[] Encode(SyncType type, object value)
    {
        switch (type)
        {
            case SyncType.Boolean:
                return [(bool)value ? (byte)1 : (byte)0];
            case SyncType.Int16:
                var s = new byte[2];
                BinaryPrimitives.WriteInt16BigEndian(s, (short)value);
                return s;
            case SyncType.Int32:
                var i = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(i, (int)value);
                return i;
            case SyncType.Int64:
                return Int64((long)value);
            case SyncType.Numeric:
                return PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(((decimal)value).ToString(CultureInfo.InvariantCulture)), 1700);
            case SyncType.Double:
                var d = new byte[8];
                BinaryPrimitives.WriteDoubleBigEndian(d, (double)value);
                return d;
            case SyncType.Text:
                return Encoding.UTF8.GetBytes((string)value);
            case SyncType.Date:
                var date = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(date, ((DateOnly)value).DayNumber - DateOnly.FromDateTime(PgEpoch).DayNumber);
                return date;
            case SyncType.Timestamp:
            case SyncType.TimestampTz:
                return Int64((DateTime.SpecifyKind((DateTime)value, DateTimeKind.Utc) - PgEpoch).Ticks / 10);
            case SyncType.Uuid:
                return ((Guid)value).ToByteArray(bigEndian: true);
            default:
                return (byte[])value;
        }
    }

    private static byte[] Int64(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }
}
