using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Sync.Batches;

namespace Sync.Expressions;

/// <summary>Between PostgreSQL binary COPY fields and expression <see cref="Value"/>s.</summary>
public static class PgValueCodec
{
    /// <summary>The expression type of a column of this OID; null when expressions cannot read it (it may still be copied).</summary>
    public static ExprType? TypeOf(uint oid) => oid switch
    {
        16 => ExprType.Boolean,
        20 or 21 or 23 => ExprType.Bigint,
        1700 => ExprType.Numeric,
        700 or 701 => ExprType.Double,
        25 or 1042 or 1043 or 2950 or 114 or 3802 => ExprType.Text,
        1082 => ExprType.Date,
        1114 => ExprType.Timestamp,
        1184 => ExprType.TimestampTz,
        _ => null,
    };

    /// <summary>The OID a value of this type is written as (a bare null is written as text).</summary>
    public static uint OidOf(ExprType type) => type switch
    {
        ExprType.Boolean => 16,
        ExprType.Bigint => 20,
        ExprType.Numeric => 1700,
        ExprType.Double => 701,
        ExprType.Date => 1082,
        ExprType.Timestamp => 1114,
        ExprType.TimestampTz => 1184,
        _ => 25,
    };

    /// <exception cref="EvaluationException">The value does not fit (a numeric NaN or beyond 28 digits).</exception>
    public static Value Decode(uint oid, ReadOnlySpan<byte> field) => oid switch
    {
        16 => Value.Of(field[0] != 0),
        20 => Value.Of(BinaryPrimitives.ReadInt64BigEndian(field)),
        21 => Value.Of((long)BinaryPrimitives.ReadInt16BigEndian(field)),
        23 => Value.Of((long)BinaryPrimitives.ReadInt32BigEndian(field)),
        1700 => DecodeNumeric(field),
        700 => Value.Of((double)BinaryPrimitives.ReadSingleBigEndian(field)),
        701 => Value.Of(BinaryPrimitives.ReadDoubleBigEndian(field)),
        25 or 1042 or 1043 or 114 => Value.Of(Encoding.UTF8.GetString(field)),
        3802 => Value.Of(Encoding.UTF8.GetString(field[1..])), // jsonb: a version byte, then the text
        2950 => Value.Of(new Guid(field, bigEndian: true).ToString("D")),
        1082 => new Value(ExprType.Date, BinaryPrimitives.ReadInt32BigEndian(field)),
        1114 => new Value(ExprType.Timestamp, BinaryPrimitives.ReadInt64BigEndian(field)),
        1184 => new Value(ExprType.TimestampTz, BinaryPrimitives.ReadInt64BigEndian(field)),
        _ => throw new EvaluationException($"expressions cannot read type {PgTypes.SqlName(oid)}"),
    };

    /// <summary>The value in the binary form of <see cref="OidOf"/> its type; null for SQL null.</summary>
    public static byte[]? Encode(Value value)
    {
        switch (value.Type)
        {
            case ExprType.Null:
                return null;
            case ExprType.Boolean:
                return [value.Boolean ? (byte)1 : (byte)0];
            case ExprType.Numeric:
                return PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(value.Numeric.ToString(CultureInfo.InvariantCulture)), 1700);
            case ExprType.Double:
                var d = new byte[8];
                BinaryPrimitives.WriteDoubleBigEndian(d, value.Double);
                return d;
            case ExprType.Text:
                return Encoding.UTF8.GetBytes(value.Text ?? "");
            case ExprType.Date:
                var date = new byte[4];
                BinaryPrimitives.WriteInt32BigEndian(date, checked((int)value.Integer));
                return date;
            default:
                var bytes = new byte[8];
                BinaryPrimitives.WriteInt64BigEndian(bytes, value.Integer);
                return bytes;
        }
    }

    private static Value DecodeNumeric(ReadOnlySpan<byte> field)
    {
        var text = PgValueText.Format(1700, field);
        return decimal.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value)
            ? Value.Of(value)
            : throw new EvaluationException($"numeric {(text.Length > 40 ? text[..40] + "…" : text)} does not fit an expression (28 significant digits, no NaN or infinity)");
    }
}
