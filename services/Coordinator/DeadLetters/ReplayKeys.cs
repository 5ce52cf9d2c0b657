using System.Text.Json.Nodes;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;

namespace Sync.Coordinator.DeadLetters;

/// <summary>
/// The source primary key of a dead record, for a replay that reads the row again from the source
/// (issue 14, item 6). Null when it cannot: the source is not a database table or query (http,
/// files and code sources cannot be read by key, so their replay sends the stored record), or the
/// record does not carry the key as the source has it (a load reject whose key column is computed
/// by an expression or may be changed by a C# transform).
/// </summary>
internal static class ReplayKeys
{
    public static IReadOnlyList<string>? Of(JobSpec job, DeadLetter letter)
    {
        if (job.Source.Kind != SourceKind.Postgres || job.Source.PrimaryKey.Count == 0 || letter.RecordText is null
            || JsonNode.Parse(letter.RecordText) is not JsonObject record)
        {
            return null;
        }

        var values = new List<string>(job.Source.PrimaryKey.Count);
        foreach (var key in job.Source.PrimaryKey)
        {
            var column = letter.Stage == "load" ? LoadedColumn(job.Transform, key) : key;
            if (column is null || record[column] is not JsonValue value || !value.TryGetValue<string>(out var text))
            {
                return null;
            }

            values.Add(text);
        }

        return values;
    }

    // A load reject holds the record after the transform: the key is there under its destination
    // name, unchanged only if the column is copied (a cast keeps the value) and no C# transform ran.
    private static string? LoadedColumn(TransformSpec transform, string sourceColumn) =>
        transform.Code is not null ? null
        : transform.Columns.Count == 0 ? sourceColumn
        : transform.Columns.FirstOrDefault(c => c.Source == sourceColumn && c.Expression is null)?.Target;
}
