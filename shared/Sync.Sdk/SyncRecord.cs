namespace Sync.Sdk;

/// <summary>
/// One record, by column name. Values are bool, short, int, long, decimal, double, string, DateOnly,
/// DateTime (UTC for timestamptz), Guid or null, by the column's <see cref="SyncType"/>. Setters convert
/// between number types when the value fits and throw otherwise.
/// </summary>
public sealed class SyncRecord(SyncSchema schema, object?[] values)
{
    public SyncSchema Schema { get; } = schema;

    /// <summary>The raw values in schema order (the host's side of the record).</summary>
    public object?[] Values { get; } = values;

    /// <summary>A new record of the schema with every value null, for a source to fill with <see cref="Set"/>.</summary>
    public static SyncRecord Create(SyncSchema schema) => new(schema, new object?[schema.Columns.Count]);

    public object? this[string column]
    {
        get => Values[Index(column)];
        set => Set(column, value);
    }

    public bool Has(string column) => Schema.Contains(column);

    public bool IsNull(string column) => Values[Index(column)] is null;

    public string? GetString(string column) => Get(column) switch
    {
        null => null,
        string s => s,
        var other => Convert.ToString(other, System.Globalization.CultureInfo.InvariantCulture),
    };

    public long? GetInt64(string column) => Get(column) switch
    {
        null => null,
        short s => s,
        int i => i,
        long l => l,
        var other => throw Mismatch(column, other, "long"),
    };

    public decimal? GetDecimal(string column) => Get(column) switch
    {
        null => null,
        short s => s,
        int i => i,
        long l => l,
        decimal d => d,
        var other => throw Mismatch(column, other, "decimal"),
    };

    public double? GetDouble(string column) => Get(column) switch
    {
        null => null,
        short s => s,
        int i => i,
        long l => l,
        decimal d => (double)d,
        double d => d,
        var other => throw Mismatch(column, other, "double"),
    };

    public bool? GetBoolean(string column) => Get(column) switch
    {
        null => null,
        bool b => b,
        var other => throw Mismatch(column, other, "bool"),
    };

    public DateTime? GetDateTime(string column) => Get(column) switch
    {
        null => null,
        DateTime t => t,
        DateOnly d => d.ToDateTime(TimeOnly.MinValue, DateTimeKind.Utc),
        var other => throw Mismatch(column, other, "DateTime"),
    };

    public DateOnly? GetDate(string column) => Get(column) switch
    {
        null => null,
        DateOnly d => d,
        var other => throw Mismatch(column, other, "DateOnly"),
    };

    public Guid? GetGuid(string column) => Get(column) switch
    {
        null => null,
        Guid g => g,
        var other => throw Mismatch(column, other, "Guid"),
    };

    /// <summary>Sets a value, converted to the column's type; throws when it does not fit.</summary>
    public void Set(string column, object? value)
    {
        var index = Index(column);
        var type = Schema.Columns[index].Type;
        Values[index] = value is null ? null : type switch
        {
            SyncType.Boolean => value is bool ? value : throw Mismatch(column, value, "bool"),
            SyncType.Int16 => checked((short)ToInt64(column, value)),
            SyncType.Int32 => checked((int)ToInt64(column, value)),
            SyncType.Int64 => ToInt64(column, value),
            SyncType.Numeric => value switch
            {
                decimal d => d,
                short or int or long => Convert.ToDecimal(value, System.Globalization.CultureInfo.InvariantCulture),
                double d => (decimal)d,
                _ => throw Mismatch(column, value, "decimal"),
            },
            SyncType.Double => value switch
            {
                double d => d,
                float f => (double)f,
                short or int or long or decimal => Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture),
                _ => throw Mismatch(column, value, "double"),
            },
            SyncType.Text => value as string ?? throw Mismatch(column, value, "string"),
            SyncType.Date => value switch
            {
                DateOnly => value,
                DateTime t => DateOnly.FromDateTime(t),
                _ => throw Mismatch(column, value, "DateOnly"),
            },
            SyncType.Timestamp => value is DateTime t ? DateTime.SpecifyKind(t, DateTimeKind.Unspecified) : throw Mismatch(column, value, "DateTime"),
            SyncType.TimestampTz => value switch
            {
                DateTime t => t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc),
                DateTimeOffset o => o.UtcDateTime,
                _ => throw Mismatch(column, value, "DateTime"),
            },
            SyncType.Uuid => value is Guid ? value : throw Mismatch(column, value, "Guid"),
            _ => throw new InvalidOperationException($"Column \"{column}\" has a type a transform cannot set."),
        };
    }

    private object? Get(string column)
    {
        var index = Index(column);
        return Schema.Columns[index].Type == SyncType.Other
            ? throw new InvalidOperationException($"Column \"{column}\" has a type a transform cannot read.")
            : Values[index];
    }

    private int Index(string column)
    {
        var index = Schema.IndexOf(column);
        return index >= 0 ? index : throw new KeyNotFoundException($"The record has no column \"{column}\"; columns: {string.Join(", ", Schema.Columns.Select(c => c.Name))}.");
    }

    private static long ToInt64(string column, object value) => value switch
    {
        short s => s,
        int i => i,
        long l => l,
        decimal d when decimal.Truncate(d) == d => checked((long)d),
        _ => throw Mismatch(column, value, "a whole number"),
    };

    private static InvalidCastException Mismatch(string column, object value, string wanted) =>
        new($"Column \"{column}\" holds {value.GetType().Name}, not {wanted}.");
}
