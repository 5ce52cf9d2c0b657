namespace Sync.Contracts.Jobs;

/// <summary>Where rows come from. <see cref="Connection"/> names a connection each service resolves from its own configuration.</summary>
public sealed record SourceSpec(
    string Kind,
    string Connection,
    string Table,
    string Cursor,
    IReadOnlyList<string> PrimaryKey);
