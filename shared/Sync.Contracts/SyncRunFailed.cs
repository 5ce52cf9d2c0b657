namespace Sync.Contracts;

/// <summary>A run ended without moving the watermark.</summary>
public sealed record SyncRunFailed(Guid RunId, string JobName, string Reason);
