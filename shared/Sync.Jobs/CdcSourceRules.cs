using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// <c>source.mode</c>: <c>incremental</c> (by cursor, the default) or <c>cdc</c> (a PostgreSQL table's
/// changes from a logical replication slot; a query's facts derived again from the changes of the
/// tables it reads, see <see cref="DependsOnSection"/>), and what cdc rules out.
/// </summary>
internal static class CdcSourceRules
{
    public static readonly IReadOnlyDictionary<string, SyncMode> Modes = new Dictionary<string, SyncMode>(StringComparer.Ordinal)
    {
        ["incremental"] = SyncMode.Incremental,
        ["cdc"] = SyncMode.Cdc,
    };

    /// <summary>The word of <c>schedule:</c> that starts a cdc job's next run as soon as one ends.</summary>
    public const string Continuous = "continuous";

    public static SyncMode Mode(YamlNodeReader source, JobFileErrors errors)
    {
        if (source.Scalar("mode", "cdc") is not { } m || !FieldRules.Choice(m, errors, Modes, out var mode))
        {
            return SyncMode.Incremental;
        }

        return mode;
    }

    public static void RefuseLookback(YamlNodeReader source, JobFileErrors errors, SyncMode mode, TimeSpan? lookback)
    {
        if (mode == SyncMode.Cdc && lookback is { } window && window > TimeSpan.Zero)
        {
            errors.Add(
                source.KeyMark("lookback"),
                source.FieldOf("lookback"),
                "has no use with mode: cdc, which reads every committed change from the replication slot",
                "remove lookback, or use mode: incremental");
        }
    }
}
