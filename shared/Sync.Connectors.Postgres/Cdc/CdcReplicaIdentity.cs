using Npgsql;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Checks, before a cdc job's table is published and on every run, that the table (each leaf
/// partition of a partitioned one) has a replica identity that holds the job's primary key. A table
/// published without one makes the application's own UPDATE and DELETE fail ("cannot update table
/// … because it does not have a replica identity and publishes updates"): an outage of the source
/// caused by Sync. An identity without the job's key makes every delete unmatchable (issue 14, item 3).
/// A derived job (a query with depends_on) checks each table it depends on for the columns that map a
/// change to its facts: an update or delete names its old facts only through the old row pgoutput
/// sends, which holds the replica identity's columns and no others.
/// </summary>
public static class CdcReplicaIdentity
{
    public static async Task CheckAsync(NpgsqlConnection connection, JobSpec job, CancellationToken cancellationToken)
    {
        if (job.Source.DependsOn is { } dependencies)
        {
            foreach (var dependency in dependencies)
            {
                await using (var exists = new NpgsqlCommand("SELECT to_regclass($1) IS NOT NULL", connection))
                {
                    exists.Parameters.Add(new NpgsqlParameter { Value = SqlIdentifier.QuoteQualified(dependency.Table) });
                    if (await exists.ExecuteScalarAsync(cancellationToken) is not true)
                    {
                        throw new SourceSchemaException($"Table {dependency.Table} of depends_on does not exist; fix the table name (the one the query reads), or create the table.");
                    }
                }

                await CheckTableAsync(
                    connection,
                    dependency.Table,
                    FactKeysQueryParameters.KeyColumns(dependency),
                    (missing, relation, identity) =>
                        $"Column \"{missing}\" of {relation}, which maps its changes to the facts of job {job.Name} (depends_on), is not in its replica identity ({identity}), so an update that moves a row, or a delete, would not say which facts it leaves: those would go stale. " +
                        $"ALTER TABLE {relation} REPLICA IDENTITY FULL, or ALTER TABLE {relation} REPLICA IDENTITY USING INDEX <a unique index on not-null columns that include {string.Join(", ", FactKeysQueryParameters.KeyColumns(dependency))}>.",
                    cancellationToken);
            }

            return;
        }

        await CheckTableAsync(
            connection,
            job.Source.Table,
            job.Source.PrimaryKey,
            (missing, relation, identity) =>
                $"primary_key column \"{missing}\" of the job is not in the replica identity of {relation} ({identity}), so a delete would not say which row went. " +
                $"Set source.primary_key to the table's key, or ALTER TABLE {relation} REPLICA IDENTITY FULL.",
            cancellationToken);
    }

    private static async Task CheckTableAsync(
        NpgsqlConnection connection, string table, IReadOnlyList<string> needed, Func<string, string, string, string> notCovered, CancellationToken cancellationToken)
    {
        // Per relation: its replica identity setting and the columns of the index that serves it
        // (the primary key for DEFAULT, the chosen index for USING INDEX); null when there is none.
        await using var command = new NpgsqlCommand(
            """
            WITH rels AS (
                SELECT relid FROM pg_partition_tree(to_regclass($1)) WHERE isleaf
                UNION SELECT to_regclass($1) WHERE NOT EXISTS (SELECT 1 FROM pg_partition_tree(to_regclass($1)) WHERE NOT isleaf))
            SELECT c.oid::regclass::text, c.relreplident::text,
                   (SELECT array_agg(a.attname::text) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
                    WHERE i.indrelid = c.oid AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident)))
            FROM rels JOIN pg_class c ON c.oid = rels.relid
            ORDER BY 1
            """,
            connection);
        command.Parameters.Add(new NpgsqlParameter { Value = SqlIdentifier.QuoteQualified(table) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var relation = reader.GetString(0);
            var identity = reader.GetString(1);
            var columns = reader.IsDBNull(2) ? null : reader.GetFieldValue<string[]>(2);
            if (identity == "f")
            {
                continue;
            }

            if (columns is null)
            {
                throw new SourceSchemaException(
                    $"Table {relation} has no replica identity ({(identity == "n" ? "REPLICA IDENTITY NOTHING" : identity == "i" ? "its replica identity index is gone" : "no primary key")}): publishing it for mode: cdc would make every UPDATE and DELETE on it fail. " +
                    $"Add a primary key, or ALTER TABLE {relation} REPLICA IDENTITY USING INDEX <a unique index on not-null columns> (or REPLICA IDENTITY FULL).");
            }

            if (needed.FirstOrDefault(k => !columns.Contains(k, StringComparer.Ordinal)) is { } missing)
            {
                throw new SourceSchemaException(notCovered(missing, relation, string.Join(", ", columns.Order(StringComparer.Ordinal))));
            }
        }
    }
}
