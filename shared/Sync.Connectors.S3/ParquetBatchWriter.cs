using Parquet;
using Parquet.Schema;

namespace Sync.Connectors.S3;

/// <summary>
/// Writes decoded rows as one Parquet file with one row group, every column optional, typed from the
/// batch's PostgreSQL types: boolean, int16/32/64, float, double, decimal(38,18) for numeric, string
/// for text, json, jsonb and uuid, bytes for bytea, date, time, and timestamp (UTC, microseconds).
/// The same rows give the same bytes.
/// </summary>
internal static class ParquetBatchWriter
{
    public static async Task<byte[]> WriteAsync(TypedRows rows, CancellationToken cancellationToken)
    {
        var fields = rows.Columns.Select((c, i) => Field(c.Name, rows.Types[i])).ToArray();
        using var stream = new MemoryStream();
        await using (var writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields), stream, cancellationToken: cancellationToken))
        {
            using var group = writer.CreateRowGroup();
            for (var i = 0; i < fields.Length; i++)
            {
                await WriteColumnAsync(group, fields[i], rows, i, cancellationToken);
            }
        }

        return stream.ToArray();
    }

    private static DataField Field(string name, Type type) => type switch
    {
        _ when type == typeof(decimal) => new DecimalDataField(name, 38, 18, isNullable: true),
        _ when type == typeof(DateTime) => new DateTimeDataField(name, DateTimeFormat.Timestamp, isAdjustedToUTC: true, unit: DateTimeTimeUnit.Micros, isNullable: true),
        _ when type == typeof(string) || type == typeof(byte[]) => new DataField(name, type, isNullable: true),
        _ => new DataField(name, typeof(Nullable<>).MakeGenericType(type), isNullable: true),
    };

    private static Task WriteColumnAsync(ParquetRowGroupWriter group, DataField field, TypedRows rows, int column, CancellationToken cancellationToken)
    {
        var type = rows.Types[column];
        return type switch
        {
            _ when type == typeof(string) => group.WriteAsync(field, Strings(rows, column), null),
            _ when type == typeof(byte[]) => group.WriteAsync(field, Values<byte[]>(rows, column), null),
            _ when type == typeof(bool) => WriteAsync<bool>(),
            _ when type == typeof(short) => WriteAsync<short>(),
            _ when type == typeof(int) => WriteAsync<int>(),
            _ when type == typeof(long) => WriteAsync<long>(),
            _ when type == typeof(float) => WriteAsync<float>(),
            _ when type == typeof(double) => WriteAsync<double>(),
            _ when type == typeof(decimal) => WriteAsync<decimal>(),
            _ when type == typeof(DateOnly) => WriteAsync<DateOnly>(),
            _ when type == typeof(TimeOnly) => WriteAsync<TimeOnly>(),
            _ when type == typeof(DateTime) => WriteAsync<DateTime>(),
            _ => throw new NotSupportedException($"No Parquet mapping for {type}."),
        };

        Task WriteAsync<T>()
            where T : struct =>
            group.WriteAsync<T>(field, new ReadOnlyMemory<T?>(Nullables<T>(rows, column)), null, null, cancellationToken);
    }

    private static string[] Strings(TypedRows rows, int column) => [.. rows.Rows.Select(r => (string)r[column]!)];

    private static T[] Values<T>(TypedRows rows, int column) => [.. rows.Rows.Select(r => (T)r[column]!)];

    private static T?[] Nullables<T>(TypedRows rows, int column)
        where T : struct => [.. rows.Rows.Select(r => r[column] is T value ? value : (T?)null)];
}
