using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>One extracted batch on its way to the Transformer; (RunId, ExtractionId, BatchSeq) identifies it.
/// <see cref="Rejected"/>: records the Extractor set aside (stage "extract"), carried on to the dead-letter store.</summary>
public sealed record TransformBatch(Guid RunId, string JobName, Guid ExtractionId, int BatchSeq, JobSpec Job, RecordBatch Batch, long Fence = 0, IReadOnlyList<RejectedRecord>? Rejected = null);
