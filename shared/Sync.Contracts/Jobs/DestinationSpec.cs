namespace Sync.Contracts.Jobs;

/// <summary>Where rows go. <see cref="Key"/> names destination columns backed by a unique constraint.</summary>
public sealed record DestinationSpec(
    string Kind,
    string Connection,
    string Table,
    IReadOnlyList<string> Key,
    ConflictStrategy Conflict = ConflictStrategy.LatestWins);
