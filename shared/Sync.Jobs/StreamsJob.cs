using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// A job file with <c>streams:</c>: one job over many source tables. It names tables and patterns;
/// which tables they match, and the primary keys and cursors not given, come from the live source
/// catalog, so the Coordinator expands it into one <see cref="JobSpec"/> per stream
/// (<see cref="StreamExpansion"/>) before each run; with <c>mode: cdc</c>, into one job carrying
/// them all (<see cref="JobSpec.Streams"/>). <see cref="File"/> names the file in errors.
/// </summary>
public sealed record StreamsJob(
    string Name,
    string File,
    string? Schedule,
    int BatchBytes,
    RetrySpec? Retry,
    string SourceConnection,
    string DestinationConnection,
    string? DestinationSchema,
    StreamSettings Defaults,
    IReadOnlyList<StreamSelector> Streams,
    IReadOnlyList<StreamSelector> Excluded)
{
    /// <summary>The job name of one stream: <c>JOB.STREAM</c>.</summary>
    public string StreamJobName(string stream) => $"{Name}.{stream}";

    /// <summary>The source schemas the streams and exclusions read, for the catalog request.</summary>
    public IReadOnlyList<string> Schemas => Streams.Select(s => s.Schema).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
}

/// <summary>
/// Settings a stream may take from the job's defaults or set itself; null = not given here.
/// <see cref="DestinationTable"/> and <see cref="Name"/> only on an entry naming one table.
/// </summary>
public sealed record StreamSettings(
    SyncMode? Mode = null,
    string? Cursor = null,
    IReadOnlyList<string>? PrimaryKey = null,
    int? BatchSize = null,
    ConflictStrategy? Conflict = null,
    DeleteMode? Deletes = null,
    TimeSpan? Lookback = null,
    string? DestinationTable = null,
    string? Name = null)
{
    /// <summary>These settings with every one <paramref name="other"/> gives taking precedence.</summary>
    public StreamSettings Over(StreamSettings other) => new(
        other.Mode ?? Mode,
        other.Cursor ?? Cursor,
        other.PrimaryKey ?? PrimaryKey,
        other.BatchSize ?? BatchSize,
        other.Conflict ?? Conflict,
        other.Deletes ?? Deletes,
        other.Lookback ?? Lookback,
        other.DestinationTable ?? DestinationTable,
        other.Name ?? Name);
}

/// <summary>
/// One entry of <c>streams:</c> or <c>exclude:</c>: a schema and a table name or pattern (<c>*</c>
/// matches any run of characters), with where it sits in the file for errors.
/// </summary>
public sealed record StreamSelector(string Schema, string Table, StreamSettings Settings, string Field, int Line, int Column)
{
    public bool IsPattern => Table.Contains('*', StringComparison.Ordinal);

    public string Text => $"{Schema}.{Table}";

    public bool Matches(string schema, string table) =>
        string.Equals(schema, Schema, StringComparison.Ordinal) && Glob(Table, table);

    private static bool Glob(string pattern, string text)
    {
        var parts = pattern.Split('*');
        if (parts.Length == 1)
        {
            return string.Equals(pattern, text, StringComparison.Ordinal);
        }

        if (!text.StartsWith(parts[0], StringComparison.Ordinal) || !text.EndsWith(parts[^1], StringComparison.Ordinal) || text.Length < parts[0].Length + parts[^1].Length)
        {
            return false;
        }

        var at = parts[0].Length;
        foreach (var part in parts[1..^1])
        {
            var found = text.IndexOf(part, at, StringComparison.Ordinal);
            if (found < 0 || found + part.Length > text.Length - parts[^1].Length)
            {
                return false;
            }

            at = found + part.Length;
        }

        return true;
    }
}
