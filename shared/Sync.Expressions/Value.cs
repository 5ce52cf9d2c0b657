using System.Globalization;

namespace Sync.Expressions;

/// <summary>
/// One typed value during evaluation. Booleans, integers, dates (days since 2000-01-01) and
/// timestamps (microseconds since 2000-01-01, UTC for timestamptz) live in <see cref="Integer"/>.
/// </summary>
public readonly record struct Value(ExprType Type, long Integer = 0, decimal Numeric = 0, double Double = 0, string? Text = null)
{
    public static readonly Value Null = default;

    public bool IsNull => Type == ExprType.Null;

    public bool Boolean => Integer != 0;

    public static Value Of(bool value) => new(ExprType.Boolean, value ? 1 : 0);

    public static Value Of(long value) => new(ExprType.Bigint, value);

    public static Value Of(decimal value) => new(ExprType.Numeric, Numeric: value);

    public static Value Of(double value) => new(ExprType.Double, Double: value);

    public static Value Of(string value) => new(ExprType.Text, Text: value);

    /// <summary>The value as <see cref="ExprType.Numeric"/> (from bigint or numeric).</summary>
    public decimal AsDecimal() => Type == ExprType.Bigint ? Integer : Numeric;

    public double AsDouble() => Type switch
    {
        ExprType.Bigint => Integer,
        ExprType.Numeric => (double)Numeric,
        _ => Double,
    };

    /// <summary>PostgreSQL's text output of the value, as <c>||</c> and <c>concat</c> use it.</summary>
    public override string ToString() => Type switch
    {
        ExprType.Null => "",
        ExprType.Boolean => Boolean ? "true" : "false",
        ExprType.Bigint => Integer.ToString(CultureInfo.InvariantCulture),
        ExprType.Numeric => Numeric.ToString(CultureInfo.InvariantCulture),
        ExprType.Double => Double.ToString("R", CultureInfo.InvariantCulture),
        ExprType.Text => Text ?? "",
        ExprType.Date => PgTime.Epoch.AddDays(Integer).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ExprType.Timestamp => PgTime.ToDateTime(Integer).ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture),
        _ => PgTime.ToDateTime(Integer).ToString("yyyy-MM-dd HH:mm:ss.FFFFFF", CultureInfo.InvariantCulture) + "+00",
    };
}

internal static class PgTime
{
    public static readonly DateTime Epoch = new(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static DateTime ToDateTime(long microseconds) => Epoch.AddTicks(microseconds * 10);

    public static long ToMicroseconds(DateTime value) => (value.ToUniversalTime() - Epoch).Ticks / 10;
}
