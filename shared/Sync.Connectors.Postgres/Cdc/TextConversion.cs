using System.Buffers.Binary;
using System.Text;
using Npgsql;
using Sync.Batches;
using Sync.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Turns streamed values of the columns a cdc job carries as text into text, on the source server.
/// pgoutput sends them in their binary send format, which only the type's own receive function reads
/// (a composite's names its fields' type OIDs, valid in the source database only), so they are copied
/// in binary into a temporary table shaped like those source columns and read back as ::text, as the
/// initial copy reads them: two round trips per source transaction that has such values. Jobs without
/// such a column never open this.
/// </summary>
internal sealed class TextConversion : IAsyncDisposable
{
    private const string Name = "sync_cdc_text";
    private const string Table = "pg_temp." + Name;

    // The row's place in the COPY, to read the rows back in order; no column name has a space (SqlIdentifier).
    private const string Ordinal = "\"sync ordinal\"";

    private const int ChunkRows = 5_000;

    private readonly NpgsqlConnection _connection;
    private readonly int[] _columns;
    private readonly string _copy;
    private readonly string _read;

    private TextConversion(NpgsqlConnection connection, int[] columns, string copy, string read)
    {
        _connection = connection;
        _columns = columns;
        _copy = copy;
        _read = read;
    }

    public static async Task<TextConversion?> OpenAsync(
        NpgsqlDataSource dataSource, string sourceTable, SourcePlan plan, IReadOnlyList<ValueCarry> carries, CancellationToken cancellationToken)
    {
        int[] columns = [.. Enumerable.Range(0, carries.Count).Where(i => carries[i].AsText)];
        if (columns.Length == 0)
        {
            return null;
        }

        var quoted = columns.Select(i => SqlIdentifier.Quote(plan.Columns[i].Name)).ToList();
        var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        try
        {
            // Shaped by the source table itself, so no type name is spelled out here.
            await using var create = new NpgsqlCommand(
                $"DROP TABLE IF EXISTS {Table}; CREATE TEMP TABLE {Name} AS SELECT 0::bigint AS {Ordinal}, {string.Join(", ", quoted)} FROM {SqlIdentifier.QuoteQualified(sourceTable)} LIMIT 0",
                connection);
            await create.ExecuteNonQueryAsync(cancellationToken);
            return new TextConversion(
                connection,
                columns,
                $"COPY {Table} ({Ordinal}, {string.Join(", ", quoted)}) FROM STDIN (FORMAT BINARY)",
                $"SELECT {string.Join(", ", quoted.Select(q => $"{q}::text"))} FROM {Table} ORDER BY {Ordinal}; TRUNCATE {Table}");
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>In each row, replaces the binary values at the given plan indexes (columns carried as text) with their text.</summary>
    public async ValueTask ConvertAsync(IReadOnlyList<(byte[]?[] Values, IReadOnlyList<int> Binary)> rows, CancellationToken cancellationToken)
    {
        for (var start = 0; start < rows.Count; start += ChunkRows)
        {
            var chunk = rows.Skip(start).Take(ChunkRows).ToList();
            var tuples = new TupleBuffer();
            var ordinal = new byte[8];
            for (var r = 0; r < chunk.Count; r++)
            {
                var (values, binary) = chunk[r];
                tuples.BeginTuple(_columns.Length + 1);
                BinaryPrimitives.WriteInt64BigEndian(ordinal, r);
                tuples.AppendField(ordinal, isNull: false);
                foreach (var column in _columns)
                {
                    var value = binary.Contains(column) ? values[column] : null;
                    tuples.AppendField(value, value is null);
                }
            }

            await using (var copy = await _connection.BeginRawBinaryCopyAsync(_copy, cancellationToken))
            {
                await copy.WriteAsync(CopyFormat.Header.ToArray(), cancellationToken);
                await copy.WriteAsync(tuples.ToArray(), cancellationToken);
                await copy.WriteAsync(CopyFormat.Trailer.ToArray(), cancellationToken);
            }

            await using var read = new NpgsqlCommand(_read, _connection);
            await using var reader = await read.ExecuteReaderAsync(cancellationToken);
            foreach (var (values, binary) in chunk)
            {
                if (!await reader.ReadAsync(cancellationToken))
                {
                    throw new InvalidOperationException("The source returned fewer rows than it was given to turn into text.");
                }

                for (var i = 0; i < _columns.Length; i++)
                {
                    if (binary.Contains(_columns[i]))
                    {
                        values[_columns[i]] = Encoding.UTF8.GetBytes(reader.GetString(i));
                    }
                }
            }
        }
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
