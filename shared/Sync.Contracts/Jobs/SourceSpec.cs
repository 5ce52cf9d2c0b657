namespace Sync.Contracts.Jobs;

/// <summary>
/// Where rows come from. <see cref="Connection"/> names a connection each service resolves from its
/// own configuration. <see cref="Lookback"/> re-reads rows stamped up to that long before the
/// watermark, for cursors that clients stamp (which can commit out of order); zero reads strictly after it.
/// <see cref="Query"/>, when set, is a SELECT read instead of <see cref="Table"/> (then empty): the
/// cursor and primary key name its output columns.
/// </summary>
public sealed record SourceSpec(
    string Kind,
    string Connection,
    string Table,
    string Cursor,
    IReadOnlyList<string> PrimaryKey,
    TimeSpan Lookback = default,
    string? Query = null);
