using Npgsql;
using Sync.Connectors;
using Sync.Contracts;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Reads the tables of a source's schemas for a job's <c>streams:</c> and <c>syncctl discover</c>:
/// ordinary and partitioned tables (not partitions, whose rows their parent already holds), each
/// with its columns in order and its primary key in key order.
/// </summary>
public sealed class SourceCatalog(ConnectionCatalog connections)
{
    public async Task<SourceTablesDiscovered> DiscoverAsync(DiscoverSourceTables request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!connections.IsDefined(request.Connection))
        {
            return new SourceTablesDiscovered(request.JobName, request.Connection, [], new UnknownConnectionException(request.Connection).Message);
        }

        try
        {
            await using var connection = await connections.Get(request.Connection).OpenConnectionAsync(cancellationToken);
            return new SourceTablesDiscovered(request.JobName, request.Connection, await ReadAsync(connection, request.Schemas, cancellationToken));
        }
        catch (NpgsqlException exception)
        {
            return new SourceTablesDiscovered(request.JobName, request.Connection, [], $"Cannot reach connection \"{request.Connection}\": {exception.Message}");
        }
    }

    private static async Task<IReadOnlyList<DiscoveredTable>> ReadAsync(NpgsqlConnection connection, IReadOnlyList<string> schemas, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                   coalesce(array_position(pk.conkey, a.attnum), 0)
            FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            LEFT JOIN pg_constraint pk ON pk.conrelid = c.oid AND pk.contype = 'p'
            WHERE n.nspname = ANY($1) AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            ORDER BY n.nspname, c.relname, a.attnum
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = schemas.ToArray() });
        var tables = new List<DiscoveredTable>();
        var columns = new List<DiscoveredColumn>();
        var key = new SortedList<int, string>();
        (string Schema, string Name)? current = null;
        void Flush()
        {
            if (current is { } table)
            {
                tables.Add(new DiscoveredTable(table.Schema, table.Name, [.. columns], [.. key.Values]));
            }

            columns.Clear();
            key.Clear();
        }

        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var table = (reader.GetString(0), reader.GetString(1));
            if (current != table)
            {
                Flush();
                current = table;
            }

            columns.Add(new DiscoveredColumn(reader.GetString(2), reader.GetString(3)));
            if (reader.GetInt32(4) is > 0 and var position)
            {
                key.Add(position, reader.GetString(2));
            }
        }

        Flush();
        return tables;
    }
}
