using Npgsql;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>Reads table shapes from the PostgreSQL catalog. Table names are passed as parameters, never spliced.</summary>
public static class PostgresSchema
{
    /// <summary>The table's columns in order, or null when the table does not exist.</summary>
    public static async Task<IReadOnlyList<TableColumn>?> GetColumnsAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT a.attname, a.atttypid, format_type(a.atttypid, NULL), a.attnotnull, a.attgenerated <> '',
                   coalesce((WITH RECURSIVE d(base) AS (
                                 SELECT t.typbasetype FROM pg_type t WHERE t.oid = a.atttypid AND t.typtype = 'd'
                                 UNION ALL
                                 SELECT t.typbasetype FROM d JOIN pg_type t ON t.oid = d.base AND t.typtype = 'd')
                             SELECT d.base FROM d JOIN pg_type b ON b.oid = d.base AND b.typtype <> 'd'), 0)
            FROM pg_attribute a
            WHERE a.attrelid = to_regclass($1) AND a.attnum > 0 AND NOT a.attisdropped
            ORDER BY a.attnum
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = SqlIdentifier.QuoteQualified(table) });
        var columns = new List<TableColumn>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            columns.Add(new TableColumn(reader.GetString(0), reader.GetFieldValue<uint>(1), reader.GetString(2), reader.GetBoolean(3), reader.GetBoolean(4), reader.GetFieldValue<uint>(5)));
        }

        return columns.Count == 0 ? null : columns;
    }

    /// <summary>Whether the table is partitioned (relkind 'p'): its rows live in its partitions.</summary>
    public static async Task<bool> IsPartitionedAsync(NpgsqlConnection connection, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM pg_class WHERE oid = to_regclass($1) AND relkind = 'p')", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = SqlIdentifier.QuoteQualified(table) });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>Whether a unique index without a predicate covers exactly <paramref name="columns"/>, as ON CONFLICT needs.</summary>
    public static async Task<bool> HasUniqueKeyAsync(NpgsqlConnection connection, string table, IReadOnlyList<string> columns, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT EXISTS (
                SELECT 1 FROM pg_index i
                WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indpred IS NULL
                  AND (SELECT array_agg(a.attname::text ORDER BY a.attname::text)
                       FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey))
                    = (SELECT array_agg(c ORDER BY c) FROM unnest($2::text[]) c))
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = SqlIdentifier.QuoteQualified(table) });
        command.Parameters.Add(new NpgsqlParameter { Value = columns.ToArray() });
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// The output columns of a job's source query, from its row description (the query is planned with
    /// LIMIT 0, so no row is read). A query PostgreSQL refuses (syntax, a missing table) throws.
    /// </summary>
    public static async Task<IReadOnlyList<TableColumn>> GetQueryColumnsAsync(NpgsqlConnection connection, string query, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand($"SELECT * FROM ({query}) AS {SqlIdentifier.Quote(SourceQueryAlias)} LIMIT 0", connection);
        await using var reader = await command.ExecuteReaderAsync(System.Data.CommandBehavior.SchemaOnly, cancellationToken);
        var columns = new List<TableColumn>(reader.FieldCount);
        for (var i = 0; i < reader.FieldCount; i++)
        {
            columns.Add(new TableColumn(reader.GetName(i), reader.GetDataTypeOID(i), reader.GetDataTypeName(i), NotNull: false));
        }

        return columns;
    }

    /// <summary>The alias a source query gets as a subquery.</summary>
    public const string SourceQueryAlias = "source_query";

    /// <summary>What a job's source reads, as SQL for a FROM clause: the quoted table, or the query as a subquery.</summary>
    public static string SourceRelation(Sync.Contracts.Jobs.SourceSpec source) =>
        source.Query is null
            ? SqlIdentifier.QuoteQualified(source.Table)
            : $"({source.Query}) AS {SqlIdentifier.Quote(SourceQueryAlias)}";

    /// <summary>How messages name a job's source: the table, or "the source query".</summary>
    public static string SourceName(Sync.Contracts.Jobs.SourceSpec source) =>
        source.Query is null ? source.Table : "the source query";
}
