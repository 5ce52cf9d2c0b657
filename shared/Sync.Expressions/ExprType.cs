namespace Sync.Expressions;

/// <summary>
/// The types an expression computes with. Integer columns (smallint, integer, bigint) are all
/// <see cref="Bigint"/>; <see cref="Null"/> is the type of the literal <c>null</c>, which fits anywhere.
/// </summary>
public enum ExprType
{
    Null,
    Boolean,
    Bigint,
    Numeric,
    Double,
    Text,
    Date,
    Timestamp,
    TimestampTz,
}

public static class ExprTypes
{
    public static bool IsNumber(this ExprType type) => type is ExprType.Bigint or ExprType.Numeric or ExprType.Double;

    /// <summary>PostgreSQL's name, as error messages and docs/job-files.md use it.</summary>
    public static string SqlName(this ExprType type) => type switch
    {
        ExprType.Null => "null",
        ExprType.Boolean => "boolean",
        ExprType.Bigint => "bigint",
        ExprType.Numeric => "numeric",
        ExprType.Double => "double precision",
        ExprType.Text => "text",
        ExprType.Date => "date",
        ExprType.Timestamp => "timestamp",
        _ => "timestamptz",
    };
}
