using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// The Extractor split a run's initial load or full refresh into <see cref="Ranges"/>, each one
/// <see cref="ExtractBatches"/> of its own that any Extractor can take. <see cref="High"/> is the
/// position of the last row under the run's cursor bound, the watermark once every range is loaded
/// (null when no row is). <see cref="Job"/>: the job as the plan read it, which every range reads too.
/// </summary>
public sealed record ExtractionPlanned(Guid RunId, string JobName, JobSpec Job, IReadOnlyList<KeyRange> Ranges, CursorPosition? High);
