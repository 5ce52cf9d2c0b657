using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// One transformed batch on its way to the Loader. <see cref="Failed"/> counts records the Transformer
/// set aside; <see cref="Fence"/> is the run's (see <see cref="ExtractBatches"/>).
/// </summary>
public sealed record LoadBatch(Guid RunId, string JobName, Guid ExtractionId, int BatchSeq, JobSpec Job, RecordBatch Batch, int Failed, long Fence = 0);
