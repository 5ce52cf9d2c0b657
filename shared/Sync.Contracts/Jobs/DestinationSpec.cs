namespace Sync.Contracts.Jobs;

/// <summary>
/// Where rows go. <see cref="Key"/> names destination columns backed by a unique constraint.
/// <see cref="Deletes"/>: what a full refresh does with destination rows the source no longer has,
/// and what a row deleted in a cdc source does;
/// <see cref="SoftDeleteColumn"/> (a timestamptz column) is stamped instead of deleting for
/// <see cref="DeleteMode.SoftDelete"/>. <see cref="AllowEmpty"/>: a full refresh that reads no row
/// may empty the destination (otherwise it fails the run).
/// <see cref="Truncate"/>: what a TRUNCATE of a cdc source table does to the destination.
/// <see cref="Schema"/>: what a batch whose columns differ from the destination table does to it.
/// For <c>type: s3</c>, <see cref="Table"/> is empty and <see cref="S3"/> says where and how objects are written.
/// </summary>
public sealed record DestinationSpec(
    DestinationKind Kind,
    string Connection,
    string Table,
    IReadOnlyList<string> Key,
    ConflictStrategy Conflict = ConflictStrategy.LatestWins,
    DeleteMode Deletes = DeleteMode.Keep,
    string? SoftDeleteColumn = null,
    bool AllowEmpty = false,
    S3DestinationSpec? S3 = null,
    TruncateMode Truncate = TruncateMode.Apply,
    SchemaContract Schema = SchemaContract.Evolve);
