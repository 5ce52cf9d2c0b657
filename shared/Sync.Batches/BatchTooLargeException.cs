namespace Sync.Batches;

/// <summary>
/// A row, or a transformed batch, larger than a message can carry (<see cref="Sync.Contracts.Jobs.BatchLimits.MaxBytes"/>):
/// permanent, no retry makes it smaller, so its run fails with this reason rather than lose the row.
/// </summary>
public sealed class BatchTooLargeException(string message) : Exception(message);
