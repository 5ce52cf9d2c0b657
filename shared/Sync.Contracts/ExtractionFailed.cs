namespace Sync.Contracts;

/// <summary>The Extractor gave up on the run (the source is unreachable, the job does not match its schema…).</summary>
public sealed record ExtractionFailed(Guid RunId, string JobName, string Reason);
