namespace Sync.Contracts;

/// <summary>The answer to <see cref="BeginExtraction"/>: the extraction's fence, or 0 when the run has ended (the extraction publishes nothing).</summary>
public sealed record ExtractionFenced(Guid RunId, Guid ExtractionId, long Fence);
