namespace Sync.Contracts;

/// <summary>
/// A batch is in the destination. Counts are per record of the batch: <see cref="Rows"/> records
/// were applied (inserted, updated, deleted or skipped), <see cref="Failed"/> were set aside by the
/// Transformer or the Loader and travel in <see cref="Rejected"/> to the dead-letter store.
/// <see cref="Deleted"/>: destination rows a change batch's deletes removed or soft-deleted.
/// <see cref="SchemaChanges"/>: what loading the batch did to the destination table's shape (made it,
/// added or widened columns, discarded values or rows under the job's schema contract).
/// <see cref="Stream"/>: the stream (<c>JOB.STREAM</c>) a cdc streams job's batch loaded; null for a job of one table.
/// </summary>
public sealed record BatchLoaded(
    Guid RunId,
    string JobName,
    Guid ExtractionId,
    int BatchSeq,
    int Rows,
    int Inserted,
    int Updated,
    int Skipped,
    int Failed,
    IReadOnlyList<RejectedRecord>? Rejected = null,
    int Deleted = 0,
    IReadOnlyList<string>? SchemaChanges = null,
    string? Stream = null);
