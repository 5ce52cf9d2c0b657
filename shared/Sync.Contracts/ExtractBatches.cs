using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// Tells the Extractor to read the rows of <see cref="Job"/> strictly after <see cref="After"/> and emit them as batches.
/// <see cref="Fence"/> orders the job's runs (a later run has a larger one); every batch carries it,
/// and a destination refuses batches of a run older than one it has already seen.
/// <see cref="ProgressInterval"/>: how often the extraction reports <see cref="ExtractionProgressed"/>
/// while it reads (the Coordinator sets it from its run timeout); null, never.
/// A backfill reads <see cref="Range"/> instead of everything after a position (<see cref="After"/> is null);
/// one range of a ranged load reads <see cref="KeyRange"/> (<see cref="ExtractionPlanned"/>).
/// </summary>
public sealed record ExtractBatches(Guid RunId, string JobName, JobSpec Job, CursorPosition? After, long Fence = 0, TimeSpan? ProgressInterval = null, CursorRange? Range = null, KeyRange? KeyRange = null);
