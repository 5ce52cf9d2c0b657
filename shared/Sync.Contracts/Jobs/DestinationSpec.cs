namespace Sync.Contracts.Jobs;

/// <summary>
/// Where rows go. <see cref="Key"/> names destination columns backed by a unique constraint.
/// <see cref="Deletes"/> says what a deleted source row does (cdc jobs); with <see cref="DeleteMode.SoftDelete"/>,
/// <see cref="SoftDeleteColumn"/> is the timestamptz column set to now() instead.
/// </summary>
public sealed record DestinationSpec(
    string Kind,
    string Connection,
    string Table,
    IReadOnlyList<string> Key,
    ConflictStrategy Conflict = ConflictStrategy.LatestWins,
    DeleteMode Deletes = DeleteMode.Delete,
    string? SoftDeleteColumn = null);
