namespace Sync.Contracts;

/// <summary>A run finished and its watermark is committed. <see cref="Deleted"/>: rows a cdc run's deletes or a full refresh's sweep deleted or soft-deleted.</summary>
public sealed record SyncRunCompleted(
    Guid RunId,
    string JobName,
    long Processed,
    long Inserted,
    long Updated,
    long Skipped,
    long Errors,
    long DurationMs,
    long Deleted = 0);
