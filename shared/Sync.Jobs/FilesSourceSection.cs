using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// The <c>source:</c> keys of <c>type: files</c>: a glob under the connection's folder, the format, and each
/// column's path and type. The watermark lists the files read (Sync.Connectors' FilesWatermark), so each is read once.
/// </summary>
internal static class FilesSourceSection
{
    public static readonly string[] Keys = ["pattern", "format", "fields", "prefix"];

    private static readonly IReadOnlyDictionary<string, string> Formats = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["csv"] = "csv",
        ["jsonl"] = "jsonl",
    };

    public static SourceDraft Read(YamlNodeReader source, JobFileErrors errors, string? connection)
    {
        foreach (var key in new[] { "table", "query", "path", "records", "since_param", "pagination", "lookback" }.Where(source.Has))
        {
            errors.Add(source.KeyMark(key), source.FieldOf(key), "does not apply to a files source", "remove it: a files source reads pattern: under its connection's folder");
        }

        // With prefix: the files are the objects under it in the connection's S3 bucket; pattern: then
        // narrows them (matched against the key after the prefix) and may be left out (every object).
        var prefix = source.Scalar("prefix", "incoming/orders/") is { } pre ? S3DestinationSection.Prefix(pre, errors) : null;
        var prefixValid = prefix is not null || !source.Has("prefix");
        var pattern = source.Scalar("pattern", "orders/*.csv", required: prefix is null && prefixValid) is { } p ? Pattern(p, errors) : prefix is null ? null : string.Empty;
        var format = source.Scalar("format", "csv", required: true) is { } f && FieldRules.Choice(f, errors, Formats, out var known) ? known : null;
        var fields = HttpSourceSection.Fields(source, errors);
        var cursor = source.Scalar("cursor", "updated_at", required: true) is { } c
            ? FieldRules.Identifier(c, errors, "a column name from fields: like updated_at")
            : null;
        var primaryKey = FieldRules.ColumnList(source.ScalarList("primary_key", "id", required: true), errors);
        var valid = HttpSourceSection.RequireFields(source, errors, fields, cursor, primaryKey);
        var files = valid && prefixValid && pattern is not null && format is not null ? new FilesSourceSpec(pattern, format, fields!, prefix) : null;
        return new SourceDraft(files is null ? null : SourceKind.Files, connection, pattern, cursor, primaryKey, TimeSpan.Zero, Files: files);
    }

    private static string? Pattern(YamlScalar pattern, JobFileErrors errors)
    {
        var value = pattern.Value;
        if (Path.IsPathRooted(value) || value.Split('/', '\\').Contains("..") || value.Contains("**", StringComparison.Ordinal))
        {
            errors.Add(pattern.Mark, pattern.Field, $"must be a glob relative to the connection's folder, without .. or ** (got {pattern.Shown})",
                "write e.g. pattern: orders/*.csv and set the folder in FileConnections__<connection>");
            return null;
        }

        return value;
    }
}
