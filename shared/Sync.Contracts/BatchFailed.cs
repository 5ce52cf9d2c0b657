namespace Sync.Contracts;

/// <summary>A stage gave up on a whole batch after its retries.</summary>
public sealed record BatchFailed(Guid RunId, string JobName, int BatchSeq, string Stage, string Reason);
