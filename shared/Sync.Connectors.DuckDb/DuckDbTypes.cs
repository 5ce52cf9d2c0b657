namespace Sync.Connectors.DuckDb;

/// <summary>The DuckDB column type for each decoded CLR type (see <see cref="Sync.Batches.PgValueObject"/>).</summary>
internal static class DuckDbTypes
{
    public static string For(Type type, uint oid) => type switch
    {
        _ when type == typeof(bool) => "BOOLEAN",
        _ when type == typeof(short) => "SMALLINT",
        _ when type == typeof(int) => "INTEGER",
        _ when type == typeof(long) => "BIGINT",
        _ when type == typeof(float) => "REAL",
        _ when type == typeof(double) => "DOUBLE",
        _ when type == typeof(decimal) => "DECIMAL(38,18)",
        _ when type == typeof(byte[]) => "BLOB",
        _ when type == typeof(DateOnly) => "DATE",
        _ when type == typeof(TimeOnly) => "TIME",
        _ when type == typeof(DateTime) => oid == Sync.Batches.PgTypes.TimestampTz ? "TIMESTAMPTZ" : "TIMESTAMP",
        _ => "VARCHAR",
    };
}
