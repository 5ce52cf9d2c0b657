using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// One transformed batch on its way to the Loader. <see cref="Failed"/> counts the records the
/// Transformer set aside; <see cref="Rejected"/> carries them (null from a sender that predates it).
/// <see cref="Fence"/> is the run's (see <see cref="ExtractBatches"/>).
/// </summary>
public sealed record LoadBatch(
    Guid RunId,
    string JobName,
    Guid ExtractionId,
    int BatchSeq,
    JobSpec Job,
    RecordBatch Batch,
    int Failed,
    IReadOnlyList<RejectedRecord>? Rejected = null,
    long Fence = 0);
