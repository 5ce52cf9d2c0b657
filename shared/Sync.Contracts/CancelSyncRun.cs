namespace Sync.Contracts;

/// <summary>Ends an active run as Failed without moving its watermark (a timeout, or an operator).</summary>
public sealed record CancelSyncRun(Guid RunId, string JobName, string Reason);
