using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors;

/// <summary>
/// One batch for a destination: which run and extraction it belongs to and its place in them.
/// <see cref="Fence"/> is the run's fence (0 loads without one); <see cref="LoadedBy"/> the Loader
/// instance applying it (null: not recorded). A destination uses what it needs of them.
/// </summary>
public sealed record BatchToLoad(
    JobSpec Job,
    Guid RunId,
    Guid ExtractionId,
    int BatchSeq,
    RecordBatch Batch,
    long Fence = 0,
    string? LoadedBy = null);
