using Npgsql;
using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres;

/// <summary>
/// Makes a PostgreSQL destination table fit a batch's columns under the job's schema contract
/// (<see cref="SchemaContract"/>): creates it when absent (the batch's types, a primary key on the
/// job's key), and under <c>evolve</c> adds the columns it lacks and widens narrower types. DDL runs
/// in its own transaction under the advisory lock of the destination's migrations, after the table is
/// read again, so Loaders meeting the same new column at once change the table once.
/// </summary>
internal static class DestinationTable
{
    // The migrations' lock (PostgresMigrator, RefreshKeys): every DDL of Sync on a destination waits for the others.
    private const long LockKey = 7320512;

    // Destination type → batch type → the type that holds both: widenings that lose no value.
    private static readonly Dictionary<(uint Table, uint Batch), string> Widenings = new()
    {
        [(21, 23)] = "integer",
        [(21, 20)] = "bigint",
        [(23, 20)] = "bigint",
        [(21, 1700)] = "numeric",
        [(23, 1700)] = "numeric",
        [(20, 1700)] = "numeric",
        [(700, 701)] = "double precision",
        [(1043, 25)] = "text",
    };

    /// <summary>The destination table after it was fitted, what was changed, and the batch columns it lacks (a discard contract).</summary>
    public sealed record Fit(IReadOnlyList<TableColumn> Table, IReadOnlyList<string> Changes, IReadOnlyList<string> Unknown);

    /// <exception cref="DestinationSchemaException">The contract is freeze and the batch would change the table.</exception>
    public static async Task<Fit> FitAsync(NpgsqlConnection connection, DestinationSpec destination, IReadOnlyList<BatchColumn> columns, CancellationToken cancellationToken)
    {
        var table = await PostgresSchema.GetColumnsAsync(connection, destination.Table, cancellationToken);
        if (table is not null)
        {
            var (missing, widen) = Differences(table, columns);
            if (missing.Count == 0 && widen.Count == 0)
            {
                return new Fit(table, [], []);
            }

            switch (destination.Schema)
            {
                case SchemaContract.Freeze:
                    throw new DestinationSchemaException(
                        $"Destination table {destination.Table} is frozen (destination.schema: freeze) and the batch would change it: " +
                        string.Join("; ", [.. missing.Select(Added), .. widen.Select(w => Widened(w.Column, w.From, w.To))]) +
                        ". Change the table by hand, or set destination.schema: evolve.");
                case SchemaContract.DiscardRow or SchemaContract.DiscardValue:
                    // The discard contracts leave the table as it is: a narrower type is cast to, value by value.
                    return new Fit(table, [], [.. missing.Select(c => c.Name)]);
            }
        }

        foreach (var key in destination.Key.Where(k => columns.All(c => c.Name != k)))
        {
            throw new DestinationSchemaException($"Key column \"{key}\" of {destination.Table} is not among the columns the job writes.");
        }

        var changes = await ChangeAsync(connection, destination, columns, cancellationToken);
        table = await PostgresSchema.GetColumnsAsync(connection, destination.Table, cancellationToken)
            ?? throw new DestinationSchemaException($"Destination table {destination.Table} does not exist.");
        return new Fit(table, changes, []);
    }

    private static async Task<List<string>> ChangeAsync(NpgsqlConnection connection, DestinationSpec destination, IReadOnlyList<BatchColumn> columns, CancellationToken cancellationToken)
    {
        var (schema, name) = SqlIdentifier.Split(destination.Table);
        var target = SqlIdentifier.QuoteQualified(destination.Table);
        var changes = new List<string>();
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, "SELECT pg_advisory_xact_lock($1)", cancellationToken, LockKey);
        // A query on pg_class takes a relation lock, which makes this backend read the catalog changes
        // others committed while it waited (PostgresMigrator.AppliedAsync says why to_regclass alone does not).
        var (schemaExists, tableExists) = await ExistsAsync(connection, schema, name, cancellationToken);
        if (!tableExists)
        {
            if (!schemaExists)
            {
                // Only when missing: CREATE SCHEMA IF NOT EXISTS needs the CREATE privilege on the database even when the schema exists.
                await ExecuteAsync(connection, $"CREATE SCHEMA {SqlIdentifier.Quote(schema)}", cancellationToken);
            }

            var definitions = columns.Select(c => $"{SqlIdentifier.Quote(c.Name)} {PgTypes.SqlName(c.TypeOid)}").ToList();
            if (destination is { Deletes: DeleteMode.SoftDelete, SoftDeleteColumn: { } softDelete } && columns.All(c => c.Name != softDelete))
            {
                definitions.Add($"{SqlIdentifier.Quote(softDelete)} timestamp with time zone");
            }

            await ExecuteAsync(
                connection,
                $"CREATE TABLE {target} ({string.Join(", ", definitions)}, PRIMARY KEY ({string.Join(", ", destination.Key.Select(SqlIdentifier.Quote))}))",
                cancellationToken);
            changes.Add($"created table {destination.Table} ({string.Join(", ", columns.Select(c => $"{c.Name} {PgTypes.SqlName(c.TypeOid)}"))})");
        }
        else
        {
            var table = await PostgresSchema.GetColumnsAsync(connection, destination.Table, cancellationToken) ?? [];
            var (missing, widen) = Differences(table, columns);
            var alterations = missing.Select(c => $"ADD COLUMN {SqlIdentifier.Quote(c.Name)} {PgTypes.SqlName(c.TypeOid)}")
                .Concat(widen.Select(w => $"ALTER COLUMN {SqlIdentifier.Quote(w.Column)} TYPE {w.To}"))
                .ToList();
            if (alterations.Count > 0)
            {
                await ExecuteAsync(connection, $"ALTER TABLE {target} {string.Join(", ", alterations)}", cancellationToken);
                changes.AddRange(missing.Select(Added));
                changes.AddRange(widen.Select(w => Widened(w.Column, w.From, w.To)));
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return changes;
    }

    private static (List<BatchColumn> Missing, List<(string Column, string From, string To)> Widen) Differences(IReadOnlyList<TableColumn> table, IReadOnlyList<BatchColumn> columns)
    {
        var byName = table.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var missing = columns.Where(c => !byName.ContainsKey(c.Name)).ToList();
        var widen = columns
            .Where(c => byName.TryGetValue(c.Name, out var d) && d.DomainBase == 0 && Widenings.ContainsKey((d.TypeOid, c.TypeOid)))
            .Select(c => (c.Name, byName[c.Name].TypeName, Widenings[(byName[c.Name].TypeOid, c.TypeOid)]))
            .ToList();
        return (missing, widen);
    }

    private static string Added(BatchColumn column) => $"added column \"{column.Name}\" {PgTypes.SqlName(column.TypeOid)}";

    private static string Widened(string column, string from, string to) => $"widened column \"{column}\" {from} → {to}";

    private static async Task<(bool Schema, bool Table)> ExistsAsync(NpgsqlConnection connection, string schema, string table, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            """
            SELECT EXISTS (SELECT FROM pg_catalog.pg_namespace WHERE nspname = $1),
                   EXISTS (SELECT FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2)
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = schema });
        command.Parameters.Add(new NpgsqlParameter { Value = table });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        await reader.ReadAsync(cancellationToken);
        return (reader.GetBoolean(0), reader.GetBoolean(1));
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken, params object[] parameters)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
