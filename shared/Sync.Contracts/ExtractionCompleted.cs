namespace Sync.Contracts;

/// <summary>
/// The Extractor emitted every batch of the run. <see cref="High"/> is the position of the last row
/// extracted (null when there was none); it becomes the watermark once every batch is loaded.
/// A retried or redelivered ExtractBatches starts a new extraction with its own <see cref="ExtractionId"/>
/// and <see cref="Fence"/> (<see cref="BeginExtraction"/>); the run accepts only the completion of
/// the extraction that took its fence last, and waits for exactly its batches. <see cref="Range"/>: the
/// range of a ranged load this extraction read (see <see cref="KeyRange"/>).
/// </summary>
public sealed record ExtractionCompleted(Guid RunId, string JobName, Guid ExtractionId, int BatchCount, long RowCount, CursorPosition? High, long Fence = 0, int? Range = null);
