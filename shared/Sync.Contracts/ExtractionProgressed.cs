namespace Sync.Contracts;

/// <summary>
/// The Extractor is still reading the run's source: sent every <see cref="ExtractBatches.ProgressInterval"/>
/// while an extraction lasts, from its start, so an extraction that is long, or slow to yield even its
/// first batch, is not taken for a run without progress. <see cref="Batches"/> and <see cref="Rows"/> are so far.
/// </summary>
public sealed record ExtractionProgressed(Guid RunId, string JobName, Guid ExtractionId, int Batches, long Rows);
