using Npgsql;
using Sync.Batches;
using Sync.Contracts;

namespace Sync.Transformer.Tests;

/// <summary>Real batches: read with binary COPY out of PostgreSQL, and written back with binary COPY in.</summary>
internal static class PgBatches
{
    public static async Task<RecordBatch> ReadAsync(NpgsqlConnection connection, string query, params BatchColumn[] columns)
    {
        var rows = new TupleBuffer();
        await using (var stream = await connection.BeginRawBinaryCopyAsync($"COPY ({query}) TO STDOUT (FORMAT BINARY)"))
        {
            var reader = new CopyStreamReader(stream);
            while (await reader.ReadAsync(CancellationToken.None))
            {
                rows.AppendTuple(reader.Current.Span);
            }
        }

        return new RecordBatch(columns, rows.RowCount, rows.ToArray());
    }

    public static async Task WriteAsync(NpgsqlConnection connection, string table, RecordBatch batch)
    {
        var columns = string.Join(", ", batch.Columns.Select(c => $"\"{c.Name}\""));
        await using var stream = await connection.BeginRawBinaryCopyAsync($"COPY {table} ({columns}) FROM STDIN (FORMAT BINARY)");
        await stream.WriteAsync(CopyFormat.Header.ToArray());
        await stream.WriteAsync(batch.Rows);
        await stream.WriteAsync(CopyFormat.Trailer.ToArray());
    }

    public static async Task<List<string>> RowsAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(string.Join("|", Enumerable.Range(0, reader.FieldCount).Select(i => reader.IsDBNull(i) ? "null" : reader.GetValue(i) is var v && v is decimal d ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture))));
        }

        return rows;
    }
}
