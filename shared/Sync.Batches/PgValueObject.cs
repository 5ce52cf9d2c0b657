using System.Buffers.Binary;
using System.Globalization;
using System.Text;

namespace Sync.Batches;

/// <summary>
/// Decodes a binary value of a batch into the CLR value a typed file format or an embedded database
/// takes (Parquet, DuckDB, JSON): integers, floats, decimals, strings, dates, UTC timestamps, UUIDs, bytes.
/// </summary>
public static class PgValueObject
{
    private static readonly DateTime PgEpoch = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    /// <summary>The CLR type <see cref="Read"/> returns for the OID; null when the type is not decoded.</summary>
    public static Type? ClrType(uint oid) => oid switch
    {
        16 => typeof(bool),
        20 => typeof(long),
        21 => typeof(short),
        23 => typeof(int),
        700 => typeof(float),
        701 => typeof(double),
        1700 => typeof(decimal),
        25 or 1042 or 1043 or 19 or 114 or 3802 or 2950 => typeof(string),
        17 => typeof(byte[]),
        1082 => typeof(DateOnly),
        1083 => typeof(TimeOnly),
        1114 or 1184 => typeof(DateTime),
        _ => null,
    };

    /// <summary>The value, or throws <see cref="FormatException"/> for one the CLR type cannot hold (numeric NaN, an infinite date).</summary>
    public static object Read(uint oid, ReadOnlySpan<byte> value) => oid switch
    {
        16 => value[0] != 0,
        20 => BinaryPrimitives.ReadInt64BigEndian(value),
        21 => BinaryPrimitives.ReadInt16BigEndian(value),
        23 => BinaryPrimitives.ReadInt32BigEndian(value),
        700 => BinaryPrimitives.ReadSingleBigEndian(value),
        701 => BinaryPrimitives.ReadDoubleBigEndian(value),
        1700 => Numeric(value),
        25 or 1042 or 1043 or 19 or 114 => Encoding.UTF8.GetString(value),
        // jsonb's binary form is a version byte (1) and the JSON text.
        3802 => Encoding.UTF8.GetString(value[1..]),
        2950 => new Guid(value, bigEndian: true).ToString("D"),
        17 => value.ToArray(),
        1082 => Date(BinaryPrimitives.ReadInt32BigEndian(value)),
        1083 => TimeOnly.FromTimeSpan(TimeSpan.FromTicks(BinaryPrimitives.ReadInt64BigEndian(value) * 10)),
        1114 or 1184 => Timestamp(BinaryPrimitives.ReadInt64BigEndian(value)),
        _ => throw new NotSupportedException($"PostgreSQL type {PgTypes.SqlName(oid)} (OID {oid}) has no typed mapping here; cast the column to text in the job's columns:."),
    };

    private static decimal Numeric(ReadOnlySpan<byte> value)
    {
        var text = PgValueText.Format(1700, value);
        return decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var number)
            ? number
            : throw new FormatException($"numeric {text} does not fit a decimal (28 significant digits, no NaN or infinity)");
    }

    private static DateOnly Date(int days) => days is int.MaxValue or int.MinValue
        ? throw new FormatException("an infinite date has no typed value")
        : DateOnly.FromDateTime(PgEpoch.AddDays(days));

    private static DateTime Timestamp(long microseconds) => microseconds is long.MaxValue or long.MinValue
        ? throw new FormatException("an infinite timestamp has no typed value")
        : PgEpoch.AddTicks(microseconds * 10);
}
