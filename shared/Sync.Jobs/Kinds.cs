using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>The words a job file may use for its enumerated settings, mapped to their values.</summary>
internal static class Kinds
{
    /// <summary>What <c>source.type</c> may name.</summary>
    public static readonly IReadOnlyDictionary<string, SourceKind> Sources = new Dictionary<string, SourceKind>(StringComparer.Ordinal)
    {
        ["postgres"] = SourceKind.Postgres,
        ["http"] = SourceKind.Http,
        ["files"] = SourceKind.Files,
        ["code"] = SourceKind.Code,
    };

    /// <summary>What <c>destination.type</c> may name.</summary>
    public static readonly IReadOnlyDictionary<string, DestinationKind> Destinations = new Dictionary<string, DestinationKind>(StringComparer.Ordinal)
    {
        ["postgres"] = DestinationKind.Postgres,
        ["duckdb"] = DestinationKind.DuckDb,
        ["s3"] = DestinationKind.S3,
        ["code"] = DestinationKind.Code,
    };

    /// <summary>The job file's word for <paramref name="value"/>, e.g. "postgres" for <see cref="SourceKind.Postgres"/>.</summary>
    public static string Word<T>(IReadOnlyDictionary<string, T> words, T value)
        where T : struct, Enum =>
        words.First(w => w.Value.Equals(value)).Key;

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

    public static readonly IReadOnlyDictionary<string, SchemaContract> SchemaContracts = new Dictionary<string, SchemaContract>(StringComparer.Ordinal)
    {
        ["evolve"] = SchemaContract.Evolve,
        ["freeze"] = SchemaContract.Freeze,
        ["discard_row"] = SchemaContract.DiscardRow,
        ["discard_value"] = SchemaContract.DiscardValue,
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
