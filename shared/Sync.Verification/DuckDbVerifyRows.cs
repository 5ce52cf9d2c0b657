using System.Globalization;
using DuckDB.NET.Data;
using Sync.Batches;
using Sync.Connectors;
using Sync.Connectors.DuckDb;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Verification;
using Sync.Jobs;

namespace Sync.Verification;

/// <summary>
/// The DuckDB side of a verification: the table's columns as PostgreSQL types (so the plan chooses the
/// same normal forms), and its rows rendered in .NET as the source renders its own in SQL
/// (<see cref="NormalForms"/>): numbers without trailing zeros, timestamps in UTC at microseconds,
/// ISO dates, PostgreSQL's text for booleans, bytes and floats.
/// </summary>
internal static class DuckDbVerifyRows
{
    public static string Relation(string table) =>
        SqlIdentifier.QuoteQualified(table.Contains('.', StringComparison.Ordinal) ? table : $"main.{table}");

    public static async Task<IReadOnlyList<TableColumn>?> ColumnsAsync(DuckDBConnection connection, string table, CancellationToken cancellationToken)
    {
        var (schema, name) = SqlIdentifier.Split(table, "main");
        await using var command = DuckDbDestination.Command(
            connection,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            [schema, name]);
        var columns = new List<TableColumn>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var type = reader.GetString(1);
            columns.Add(new TableColumn(reader.GetString(0), Oid(type), type, NotNull: false));
        }

        return columns.Count == 0 ? null : columns;
    }

    /// <summary>
    /// The destination's rows (the plan's key and compared columns, its soft-delete and watermark
    /// conditions, which DuckDB reads as PostgreSQL does) with the key made as the source's.
    /// </summary>
    public static async IAsyncEnumerable<LeafRow> ReadAsync(
        DuckDBConnection connection, VerifyPlan plan, string relation, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var keyIndexes = plan.KeyColumns.Select(k => plan.Columns.ToList().IndexOf(k)).ToArray();
        await using var command = DuckDbDestination.Command(
            connection,
            $"SELECT {string.Join(", ", plan.Columns.Select(SqlIdentifier.Quote))} FROM {relation} WHERE {plan.Destination.Where}",
            [.. plan.Destination.Parameters]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var columns = new string?[plan.Columns.Count];
            for (var i = 0; i < columns.Length; i++)
            {
                columns[i] = reader.IsDBNull(i) ? null : Render(reader.GetValue(i), plan.Forms[i]);
            }

            string?[] key = [.. keyIndexes.Select(i => columns[i])];
            yield return new LeafRow(RowHashes.KeyText(key), key, columns);
        }
    }

    public static string Render(object value, NormalForm form) => value switch
    {
        string text => form == NormalForm.Unpadded ? text.TrimEnd(' ') : text,
        bool flag => flag ? "true" : "false",
        double number => Float(number),
        float number => Float(number),
        decimal number when form == NormalForm.Float => Float((double)number),
        decimal number => Trimmed(number.ToString(CultureInfo.InvariantCulture)),
        DateTimeOffset instant => Timestamp(instant.UtcDateTime),
        DateTime time => Timestamp(time.Kind == DateTimeKind.Local ? time.ToUniversalTime() : time),
        DateOnly day => day.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        TimeOnly time => Time(time.ToTimeSpan()),
        TimeSpan time => Time(time),
        byte[] bytes => "\\x" + Convert.ToHexStringLower(bytes),
        Guid id => id.ToString("D"),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty,
    };

    // PostgreSQL prints a float8 in its shortest exact form, with a lower-case exponent.
    private static string Float(double number) =>
        double.IsNaN(number) ? "NaN"
        : double.IsInfinity(number) ? (number > 0 ? "Infinity" : "-Infinity")
        : number.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');

    private static string Trimmed(string number) =>
        number.Contains('.', StringComparison.Ordinal) ? number.TrimEnd('0').TrimEnd('.') : number;

    // PostgreSQL's ISO timestamp text: fractional seconds only when there are any, without trailing zeros.
    private static string Timestamp(DateTime time) =>
        time.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) + Fraction(time.Ticks % TimeSpan.TicksPerSecond);

    private static string Time(TimeSpan time) =>
        $"{(int)time.TotalHours:00}:{time.Minutes:00}:{time.Seconds:00}" + Fraction(time.Ticks % TimeSpan.TicksPerSecond);

    private static string Fraction(long ticks) =>
        ticks == 0 ? string.Empty : "." + (ticks / 10).ToString("000000", CultureInfo.InvariantCulture).TrimEnd('0');

    private static uint Oid(string duckDbType) => duckDbType.ToUpperInvariant() switch
    {
        "BIGINT" => 20,
        "INTEGER" => 23,
        "SMALLINT" => 21,
        "DOUBLE" => 701,
        "FLOAT" or "REAL" => 700,
        "BOOLEAN" => 16,
        "DATE" => PgTypes.Date,
        "TIME" => 1083,
        "TIMESTAMP" => PgTypes.Timestamp,
        "TIMESTAMP WITH TIME ZONE" => PgTypes.TimestampTz,
        "BLOB" => 17,
        "UUID" => 2950,
        var decimalType when decimalType.StartsWith("DECIMAL", StringComparison.Ordinal) => 1700,
        _ => PgTypes.Text,
    };
}
