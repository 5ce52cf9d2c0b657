using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// Asks the Extractor to read again, by key, the source rows of dead letters a replay run sends
/// back, and to publish each row as it is now (or its delete, when it is gone and the job deletes)
/// as the run's TransformBatch <see cref="ReplayKey.BatchSeq"/>, so a replay never writes an image
/// the source has since changed or deleted (issue 14, item 6).
/// </summary>
public sealed record RereadRecords(Guid RunId, string JobName, Guid ExtractionId, JobSpec Job, IReadOnlyList<ReplayKey> Keys, long Fence);
