using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Globalization;
using System.Text;

namespace Sync.Batches;

/// <summary>
/// Converts one binary field to another PostgreSQL type through its text form, the way a SQL cast
/// from text would: the value is rendered (<see cref="PgValueText"/>, or the bytes themselves for
/// text types), parsed as the target type and written in that type's binary send format. A value
/// that does not parse throws <see cref="ValueCastException"/>, so the caller can set that record aside.
/// </summary>
public static class PgValueCast
{
    private static readonly DateTime PgEpoch = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    private static readonly FrozenDictionary<string, uint> Targets = new Dictionary<string, uint>(StringComparer.Ordinal)
    {
        ["boolean"] = 16,
        ["smallint"] = 21,
        ["integer"] = 23,
        ["bigint"] = 20,
        ["numeric"] = 1700,
        ["double precision"] = 701,
        ["text"] = 25,
        ["date"] = 1082,
        ["timestamp with time zone"] = 1184,
        ["uuid"] = 2950,
    }.ToFrozenDictionary();

    /// <summary>The type names a cast may target (PostgreSQL's own spelling).</summary>
    public static IEnumerable<string> TargetNames => Targets.Keys;

    /// <summary>The OID of a cast's target type; throws for a name not in <see cref="TargetNames"/>.</summary>
    public static uint TargetOid(string typeName) =>
        Targets.TryGetValue(typeName, out var oid) ? oid : throw new NotSupportedException($"Cannot cast to \"{typeName}\".");

    /// <summary>The value of type <paramref name="sourceOid"/> as binary <paramref name="targetOid"/>.</summary>
    public static byte[] Convert(uint sourceOid, ReadOnlySpan<byte> value, uint targetOid)
    {
        var text = sourceOid is 25 or 1042 or 1043 or 19 ? Encoding.UTF8.GetString(value) : Render(sourceOid, value);
        try
        {
            // Input functions of the other types skip surrounding blanks; text keeps every character.
            return Parse(targetOid == 25 ? text : text.Trim(), targetOid);
        }
        catch (Exception exception) when (exception is FormatException or OverflowException or ArgumentException)
        {
            throw new ValueCastException($"invalid input for type {PgTypes.SqlName(targetOid)}: \"{Shorten(text)}\"", exception);
        }
    }

    private static string Render(uint oid, ReadOnlySpan<byte> value)
    {
        try
        {
            return PgValueText.Format(oid, value);
        }
        catch (NotSupportedException exception)
        {
            throw new ValueCastException($"a value of type {PgTypes.SqlName(oid)} cannot be cast", exception);
        }
    }

    private static byte[] Parse(string text, uint targetOid)
    {
        var invariant = CultureInfo.InvariantCulture;
        switch (targetOid)
        {
            case 16:
                return [ParseBoolean(text) ? (byte)1 : (byte)0];
            case 21:
                return BigEndian(short.Parse(text, NumberStyles.AllowLeadingSign, invariant));
            case 23:
                return BigEndian(int.Parse(text, NumberStyles.AllowLeadingSign, invariant));
            case 20:
                return BigEndian(long.Parse(text, NumberStyles.AllowLeadingSign, invariant));
            case 701:
                return BigEndian(BitConverter.DoubleToInt64Bits(double.Parse(text, NumberStyles.Float, invariant)));
            case 1700:
                return NumericBinary.FromText(text);
            case 25:
                return Encoding.UTF8.GetBytes(text);
            case 1082:
                return BigEndian((int)(DateTime.ParseExact(text, "yyyy-MM-dd", invariant, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal) - PgEpoch).TotalDays);
            case 1184:
                var instant = DateTimeOffset.Parse(text, invariant, DateTimeStyles.AssumeUniversal).UtcDateTime;
                return BigEndian((instant - PgEpoch).Ticks / 10);
            case 2950:
                return Guid.Parse(text).ToByteArray(bigEndian: true);
            default:
                throw new NotSupportedException($"Cannot cast to type OID {targetOid}.");
        }
    }

    // PostgreSQL's boolean input: true/false, yes/no, on/off, 1/0 and unique prefixes of t/f/y/n.
    private static bool ParseBoolean(string text) => text.ToLowerInvariant() switch
    {
        "t" or "tr" or "tru" or "true" or "y" or "ye" or "yes" or "on" or "1" => true,
        "f" or "fa" or "fal" or "fals" or "false" or "n" or "no" or "of" or "off" or "0" => false,
        _ => throw new FormatException($"\"{text}\" is not a boolean."),
    };

    private static byte[] BigEndian(short value)
    {
        var bytes = new byte[2];
        BinaryPrimitives.WriteInt16BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian(int value)
    {
        var bytes = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(bytes, value);
        return bytes;
    }

    private static byte[] BigEndian(long value)
    {
        var bytes = new byte[8];
        BinaryPrimitives.WriteInt64BigEndian(bytes, value);
        return bytes;
    }

    private static string Shorten(string text) => text.Length > 80 ? text[..80] + "…" : text;
}

/// <summary>A value that does not convert to a cast's type: a fault of the record, not of the batch.</summary>
public sealed class ValueCastException(string message, Exception? inner = null) : Exception(message, inner);
