using DuckDB.NET.Data;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.DuckDb;

/// <summary>
/// What a batch's columns ask of a DuckDB destination table under the job's schema contract
/// (<see cref="SchemaContract"/>): the DDL that creates it (a primary key on the job's key) or, under
/// <c>evolve</c>, adds the columns it lacks and widens narrower types. The DDL runs in the batch's
/// transaction; a DuckDB file has one writer, so no other Loader changes it meanwhile.
/// </summary>
internal static class DuckDbTable
{
    // Table type → batch type → the type that holds both (information_schema spells REAL as FLOAT).
    private static readonly Dictionary<(string Table, string Batch), string> Widenings = new()
    {
        [("SMALLINT", "INTEGER")] = "INTEGER",
        [("SMALLINT", "BIGINT")] = "BIGINT",
        [("INTEGER", "BIGINT")] = "BIGINT",
        [("FLOAT", "DOUBLE")] = "DOUBLE",
    };

    /// <summary>DDL to run in the load transaction, the changes it makes, and the batch columns the table lacks (a discard contract).</summary>
    public sealed record Fit(IReadOnlyList<string> Ddl, IReadOnlyList<string> Changes, IReadOnlyList<string> Unknown);

    /// <exception cref="DestinationSchemaException">The contract is freeze and the batch would change the table.</exception>
    public static async Task<Fit> FitAsync(DuckDBConnection connection, DestinationSpec destination, TypedRows rows, CancellationToken cancellationToken)
    {
        var (schema, name) = SqlIdentifier.Split(destination.Table, "main");
        var target = SqlIdentifier.QuoteQualified($"{schema}.{name}");
        var types = rows.Columns.Select((c, i) => DuckDbTypes.For(rows.Types[i], c.TypeOid)).ToList();
        var existing = await ColumnsAsync(connection, schema, name, cancellationToken);
        if (existing.Count == 0)
        {
            var definitions = rows.Columns.Select((c, i) => $"{SqlIdentifier.Quote(c.Name)} {types[i]}");
            return new Fit(
                [
                    $"CREATE SCHEMA IF NOT EXISTS {SqlIdentifier.Quote(schema)}",
                    $"CREATE TABLE {target} ({string.Join(", ", definitions)}, PRIMARY KEY ({string.Join(", ", destination.Key.Select(SqlIdentifier.Quote))}))",
                ],
                [$"created table {destination.Table} ({string.Join(", ", rows.Columns.Select((c, i) => $"{c.Name} {types[i]}"))})"],
                []);
        }

        var missing = rows.Columns.Select((c, i) => (c.Name, Type: types[i])).Where(c => !existing.ContainsKey(c.Name)).ToList();
        var widen = rows.Columns.Select((c, i) => (c.Name, Type: types[i]))
            .Where(c => existing.TryGetValue(c.Name, out var t) && Widenings.ContainsKey((t, Storage(c.Type))))
            .Select(c => (c.Name, From: existing[c.Name], To: Widenings[(existing[c.Name], Storage(c.Type))]))
            .ToList();
        if (missing.Count == 0 && widen.Count == 0)
        {
            return new Fit([], [], []);
        }

        var changes = missing.Select(c => $"added column \"{c.Name}\" {c.Type}")
            .Concat(widen.Select(w => $"widened column \"{w.Name}\" {w.From} → {w.To}"))
            .ToList();
        return destination.Schema switch
        {
            SchemaContract.Freeze => throw new DestinationSchemaException(
                $"Destination table {destination.Table} is frozen (destination.schema: freeze) and the batch would change it: {string.Join("; ", changes)}. " +
                "Change the table by hand, or set destination.schema: evolve."),
            SchemaContract.DiscardRow or SchemaContract.DiscardValue => new Fit([], [], [.. missing.Select(c => c.Name)]),
            // DuckDB takes one change per ALTER TABLE.
            _ => new Fit(
                [
                    .. missing.Select(c => $"ALTER TABLE {target} ADD COLUMN {SqlIdentifier.Quote(c.Name)} {c.Type}"),
                    .. widen.Select(w => $"ALTER TABLE {target} ALTER COLUMN {SqlIdentifier.Quote(w.Name)} SET DATA TYPE {w.To}"),
                ],
                changes,
                []),
        };
    }

    private static string Storage(string type) => type == "REAL" ? "FLOAT" : type;

    private static async Task<Dictionary<string, string>> ColumnsAsync(DuckDBConnection connection, string schema, string table, CancellationToken cancellationToken)
    {
        await using var command = DuckDbDestination.Command(
            connection,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = $1 AND table_name = $2",
            [schema, table]);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var columns = new Dictionary<string, string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            columns[reader.GetString(0)] = reader.GetString(1);
        }

        return columns;
    }
}
