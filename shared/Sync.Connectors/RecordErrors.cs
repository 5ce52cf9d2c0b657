using Npgsql;

namespace Sync.Connectors;

/// <summary>
/// Which destination errors belong to a record rather than to the batch or the destination: data
/// exceptions (SQLSTATE class 22: value too long, invalid text representation, out of range…) and
/// integrity violations (class 23: not null, check, unique, foreign key). Those rows are set aside
/// and the rest of the batch loads; anything else fails the batch as before.
/// </summary>
public static class RecordErrors
{
    public static bool IsRecordError(Exception exception) =>
        exception is PostgresException postgres
        && (postgres.SqlState.StartsWith("22", StringComparison.Ordinal) || postgres.SqlState.StartsWith("23", StringComparison.Ordinal));

    /// <summary>How a refused record's reason reads in the dead-letter store.</summary>
    public static string Describe(PostgresException exception) =>
        exception.ColumnName is { } column
            ? $"{exception.SqlState}: {exception.MessageText} (column {column})"
            : $"{exception.SqlState}: {exception.MessageText}";
}
