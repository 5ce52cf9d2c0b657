namespace Sync.Contracts.Jobs;

/// <summary>
/// Where rows come from. <see cref="Connection"/> names a connection each service resolves from its
/// own configuration. <see cref="Lookback"/> re-reads rows stamped up to that long before the
/// watermark, for cursors that clients stamp (which can commit out of order); zero reads strictly after it.
/// <see cref="Query"/>, when set, is a SELECT read instead of <see cref="Table"/> (then empty): the
/// cursor and primary key name its output columns.
/// <see cref="DependsOn"/>, for a query with mode: cdc, lists the tables the query reads and how their
/// changes map to the query's keys: the facts to derive again.
/// <see cref="RangeSize"/> (<c>range_size</c>): when above zero, an initial load or full refresh of a PostgreSQL table reads
/// it in ranges of that many primary-key values, each a unit of work any Extractor can take; zero reads it in one.
/// For <c>type: http</c>, <see cref="Table"/> is the request path and <see cref="Http"/> says how to read the pages.
/// </summary>
public sealed record SourceSpec(
    SourceKind Kind,
    string Connection,
    string Table,
    string Cursor,
    IReadOnlyList<string> PrimaryKey,
    TimeSpan Lookback = default,
    HttpSourceSpec? Http = null,
    FilesSourceSpec? Files = null,
    string? Query = null,
    IReadOnlyList<SourceDependency>? DependsOn = null,
    long RangeSize = 0);
