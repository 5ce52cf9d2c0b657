namespace Sync.Contracts.Jobs;

/// <summary>
/// Where rows go. <see cref="Key"/> names destination columns backed by a unique constraint.
/// For <c>type: s3</c>, <see cref="Table"/> is empty and <see cref="S3"/> says where and how objects are written.
/// </summary>
public sealed record DestinationSpec(
    string Kind,
    string Connection,
    string Table,
    IReadOnlyList<string> Key,
    ConflictStrategy Conflict = ConflictStrategy.LatestWins,
    S3DestinationSpec? S3 = null);
