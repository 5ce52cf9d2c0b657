namespace Sync.Contracts;

/// <summary>
/// A stage gave up on a whole batch after its retries. <see cref="Stream"/>: the stream (<c>JOB.STREAM</c>)
/// of a cdc streams job's batch; null for a job of one table.
/// </summary>
public sealed record BatchFailed(Guid RunId, string JobName, int BatchSeq, string Stage, string Reason, string? Stream = null);
