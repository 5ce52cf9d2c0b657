namespace Sync.Contracts;

/// <summary>
/// Asked by an extraction before it publishes anything: the Coordinator gives it a fence of its
/// own and makes it the run's extraction, so a batch of an earlier extraction of the same run (one
/// that died, or a duplicate) is refused by a destination once one of this extraction's is applied.
/// The read of one range of a ranged load names it in <see cref="Range"/>: it shares the run's fence, and
/// the Coordinator counts it as a read of that range, or refuses it when the range is already extracted.
/// </summary>
public sealed record BeginExtraction(Guid RunId, string JobName, Guid ExtractionId, int? Range = null);
