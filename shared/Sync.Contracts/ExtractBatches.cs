using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>Tells the Extractor to read the rows of <see cref="Job"/> strictly after <see cref="After"/> and emit them as batches.</summary>
public sealed record ExtractBatches(Guid RunId, string JobName, JobSpec Job, CursorPosition? After);
