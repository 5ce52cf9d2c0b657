using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Sync.Batches;

/// <summary>
/// Turns a binary value of a cursor or key type into PostgreSQL's text input form, so a position
/// can be stored as a watermark and passed back as a parameter that the server parses as the
/// column's own type (exact: timestamps keep their microseconds, numerics their scale).
/// </summary>
public static class PgValueText
{
    private static readonly DateTime PgEpoch = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static string Format(uint oid, ReadOnlySpan<byte> value) => oid switch
    {
        16 => value[0] != 0 ? "true" : "false",
        20 => BinaryPrimitives.ReadInt64BigEndian(value).ToString(CultureInfo.InvariantCulture),
        21 => BinaryPrimitives.ReadInt16BigEndian(value).ToString(CultureInfo.InvariantCulture),
        23 => BinaryPrimitives.ReadInt32BigEndian(value).ToString(CultureInfo.InvariantCulture),
        25 or 1042 or 1043 or 19 => Encoding.UTF8.GetString(value),
        2950 => new Guid(value, bigEndian: true).ToString("D"),
        1082 => FormatDate(BinaryPrimitives.ReadInt32BigEndian(value)),
        1114 => FormatTimestamp(BinaryPrimitives.ReadInt64BigEndian(value), withZone: false),
        1184 => FormatTimestamp(BinaryPrimitives.ReadInt64BigEndian(value), withZone: true),
        1700 => FormatNumeric(value),
        _ => throw new NotSupportedException($"A cursor or key of type OID {oid} is not supported."),
    };

    private static string FormatDate(int days) => days switch
    {
        int.MaxValue => "infinity",
        int.MinValue => "-infinity",
        _ => PgEpoch.AddDays(days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
    };

    private static string FormatTimestamp(long microseconds, bool withZone)
    {
        if (microseconds == long.MaxValue)
        {
            return "infinity";
        }

        if (microseconds == long.MinValue)
        {
            return "-infinity";
        }

        var value = PgEpoch.AddTicks(microseconds * 10);
        var text = value.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
        return withZone ? text + "+00:00" : text;
    }

    // numeric's binary form: ndigits, weight, sign, dscale (int16 each), then base-10000 digits.
    private static string FormatNumeric(ReadOnlySpan<byte> value)
    {
        var ndigits = BinaryPrimitives.ReadInt16BigEndian(value);
        var weight = BinaryPrimitives.ReadInt16BigEndian(value[2..]);
        var sign = (ushort)BinaryPrimitives.ReadInt16BigEndian(value[4..]);
        var dscale = BinaryPrimitives.ReadInt16BigEndian(value[6..]);
        switch (sign)
        {
            case 0xC000:
                return "NaN";
            case 0xD000:
                return "Infinity";
            case 0xF000:
                return "-Infinity";
        }

        var digits = new short[ndigits];
        for (var i = 0; i < ndigits; i++)
        {
            digits[i] = BinaryPrimitives.ReadInt16BigEndian(value[(8 + (2 * i))..]);
        }

        var text = new StringBuilder();
        if (sign == 0x4000)
        {
            text.Append('-');
        }

        if (weight < 0)
        {
            text.Append('0');
        }
        else
        {
            for (var i = 0; i <= weight; i++)
            {
                var digit = i < ndigits ? digits[i] : 0;
                text.Append(i == 0 ? digit.ToString(CultureInfo.InvariantCulture) : digit.ToString("D4", CultureInfo.InvariantCulture));
            }
        }

        if (dscale > 0)
        {
            var fraction = new StringBuilder();
            for (var i = weight + 1; fraction.Length < dscale; i++)
            {
                var digit = i >= 0 && i < ndigits ? digits[i] : 0;
                fraction.Append(digit.ToString("D4", CultureInfo.InvariantCulture));
            }

            text.Append('.').Append(fraction.ToString(0, dscale));
        }

        return text.ToString();
    }
}
