namespace Sync.Contracts;

/// <summary>
/// Asked by an extraction before it publishes anything: the Coordinator gives it a fence of its
/// own and makes it the run's extraction, so a batch of an earlier extraction of the same run (one
/// that died, or a duplicate) is refused by a destination once one of this extraction's is applied.
/// </summary>
public sealed record BeginExtraction(Guid RunId, string JobName, Guid ExtractionId);
