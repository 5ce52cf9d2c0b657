using System.Buffers.Binary;
using System.Globalization;

namespace Sync.Batches;

/// <summary>
/// numeric's binary send format from decimal text: ndigits, weight, sign, dscale (int16 each), then
/// base-10000 digits, most significant first, trailing zero digits dropped (as numeric_send does).
/// </summary>
internal static class NumericBinary
{
    public static byte[] FromText(string text)
    {
        var negative = text.StartsWith('-');
        var unsigned = negative || text.StartsWith('+') ? text[1..] : text;
        if (unsigned.Equals("NaN", StringComparison.OrdinalIgnoreCase))
        {
            return Header(0, 0, 0xC000, 0);
        }

        var point = unsigned.IndexOf('.', StringComparison.Ordinal);
        var integer = (point < 0 ? unsigned : unsigned[..point]).TrimStart('0');
        var fraction = point < 0 ? "" : unsigned[(point + 1)..];
        if ((integer.Length == 0 && fraction.Length == 0 && !unsigned.Contains('0', StringComparison.Ordinal))
            || !integer.All(char.IsAsciiDigit) || !fraction.All(char.IsAsciiDigit))
        {
            throw new FormatException($"\"{text}\" is not a number.");
        }

        var dscale = (short)fraction.Length;
        // Pad both parts to whole groups of four digits around the decimal point.
        var intPadded = integer.PadLeft((integer.Length + 3) / 4 * 4, '0');
        var fracPadded = fraction.PadRight((fraction.Length + 3) / 4 * 4, '0');
        var groups = new List<short>();
        for (var i = 0; i < intPadded.Length; i += 4)
        {
            groups.Add(short.Parse(intPadded.AsSpan(i, 4), CultureInfo.InvariantCulture));
        }

        for (var i = 0; i < fracPadded.Length; i += 4)
        {
            groups.Add(short.Parse(fracPadded.AsSpan(i, 4), CultureInfo.InvariantCulture));
        }

        var weight = (short)((intPadded.Length / 4) - 1);
        var leading = 0;
        while (leading < groups.Count && groups[leading] == 0)
        {
            leading++;
        }

        if (leading == groups.Count)
        {
            return Header(0, 0, 0, dscale);
        }

        weight -= (short)leading;
        var last = groups.Count - 1;
        while (groups[last] == 0)
        {
            last--;
        }

        var digits = groups.GetRange(leading, last - leading + 1);
        var bytes = Header((short)digits.Count, weight, negative ? (ushort)0x4000 : (ushort)0, dscale, digits.Count);
        for (var i = 0; i < digits.Count; i++)
        {
            BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(8 + (2 * i)), digits[i]);
        }

        return bytes;
    }

    private static byte[] Header(short ndigits, short weight, ushort sign, short dscale, int digits = 0)
    {
        var bytes = new byte[8 + (2 * digits)];
        BinaryPrimitives.WriteInt16BigEndian(bytes, ndigits);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(2), weight);
        BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(4), sign);
        BinaryPrimitives.WriteInt16BigEndian(bytes.AsSpan(6), dscale);
        return bytes;
    }
}
