using System.Text;
using Sync.Contracts;

namespace Sync.Jobs;

/// <summary>
/// Writes the job file <c>syncctl discover</c> prints: one stream entry per table of a schema that
/// <see cref="StreamExpansion"/> can resolve on its own (a primary key, an <c>updated_at</c> timestamptz
/// column), and, commented out, the tables that need a setting first, each with what is missing.
/// </summary>
public static class StreamsDiscovery
{
    public static string Render(string jobName, string sourceConnection, string destinationConnection, string schema, IReadOnlyList<DiscoveredTable> tables)
    {
        ArgumentNullException.ThrowIfNull(tables);
        var text = new StringBuilder();
        text.AppendLine($"# Written by syncctl discover from connection \"{sourceConnection}\", schema {schema}: {tables.Count} table(s).");
        text.AppendLine($"# Each stream becomes the job {jobName}.TABLE, loaded by cursor into {schema}.TABLE of the destination.");
        text.AppendLine($"name: {jobName}");
        text.AppendLine("source:");
        text.AppendLine("  type: postgres");
        text.AppendLine($"  connection: {sourceConnection}");
        text.AppendLine("destination:");
        text.AppendLine("  type: postgres");
        text.AppendLine($"  connection: {destinationConnection}");
        text.AppendLine($"  schema: {schema}");
        text.AppendLine("streams:");
        var ready = 0;
        foreach (var table in tables.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            if (Missing(table) is { } missing)
            {
                text.AppendLine($"  # - {table.QualifiedName}    # {missing}");
                continue;
            }

            text.AppendLine($"  - {table.QualifiedName}    # primary key {string.Join(", ", table.PrimaryKey)}; cursor {StreamExpansion.DefaultCursor}");
            ready++;
        }

        if (ready == 0)
        {
            text.AppendLine($"  # no table of {schema} resolves without settings: give the entries above primary_key: and cursor:");
        }

        return text.ToString();
    }

    private static string? Missing(DiscoveredTable table)
    {
        var problems = new List<string>();
        if (!SqlIdentifier.IsValid(table.Name) || table.Columns.Any(c => !SqlIdentifier.IsValid(c.Name)))
        {
            return "a table or column name Sync does not quote; rename it to sync it";
        }

        if (table.PrimaryKey.Count == 0)
        {
            problems.Add("no primary key: write it as - table: … with primary_key: [column]");
        }

        if (!table.Columns.Any(c => c.Name == StreamExpansion.DefaultCursor && c.Type == StreamExpansion.DefaultCursorType))
        {
            problems.Add($"no {StreamExpansion.DefaultCursor} timestamptz column: write it as - table: … with cursor: a column that grows with every change");
        }

        if (!StreamsFile.IsStreamName(table.Name))
        {
            problems.Add("its name is not a stream name: add name: in lower case");
        }

        return problems.Count == 0 ? null : string.Join("; ", problems);
    }
}
