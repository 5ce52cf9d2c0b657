using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>The words a job file may use for its enumerated settings, mapped to their values.</summary>
internal static class Kinds
{
    public static readonly IReadOnlyDictionary<string, string> Connectors = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["postgres"] = "postgres",
        ["duckdb"] = "duckdb",
        ["s3"] = "s3",
    };

    /// <summary>What <c>source.type</c> may name: the connectors above, and the read-only kinds.</summary>
    public static readonly IReadOnlyDictionary<string, string> Sources = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["postgres"] = "postgres",
        ["http"] = "http",
        ["files"] = "files",
        ["code"] = "code",
    };

    /// <summary>What <c>destination.type</c> may name: the connectors above, and C# sinks.</summary>
    public static readonly IReadOnlyDictionary<string, string> Destinations = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["postgres"] = "postgres",
        ["duckdb"] = "duckdb",
        ["s3"] = "s3",
        ["code"] = "code",
    };

    public static readonly IReadOnlyDictionary<string, SyncMode> Modes = new Dictionary<string, SyncMode>(StringComparer.Ordinal)
    {
        ["incremental"] = SyncMode.Incremental,
        ["full_refresh"] = SyncMode.FullRefresh,
    };

    public static readonly IReadOnlyDictionary<string, ConflictStrategy> Conflicts = new Dictionary<string, ConflictStrategy>(StringComparer.Ordinal)
    {
        ["latest-wins"] = ConflictStrategy.LatestWins,
        ["source-wins"] = ConflictStrategy.SourceWins,
        ["dest-wins"] = ConflictStrategy.DestinationWins,
        ["merge"] = ConflictStrategy.Merge,
    };

    /// <summary>The types a column's <c>cast:</c> may name, each with its PostgreSQL name (the Transformer's converters are keyed by it).</summary>
    public static readonly IReadOnlyDictionary<string, string> Casts = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["smallint"] = "smallint",
        ["integer"] = "integer",
        ["bigint"] = "bigint",
        ["numeric"] = "numeric",
        ["double precision"] = "double precision",
        ["text"] = "text",
        ["boolean"] = "boolean",
        ["date"] = "date",
        ["timestamptz"] = "timestamp with time zone",
        ["uuid"] = "uuid",
    };
}
