namespace Sync.Contracts;

/// <summary>
/// The Extractor emitted every batch of the run. <see cref="High"/> is the position of the last row
/// extracted (null when there was none); it becomes the watermark once every batch is loaded.
/// A redelivered ExtractBatches starts a new extraction with its own <see cref="ExtractionId"/>; the
/// run accepts the first one to complete and waits for exactly its batches.
/// </summary>
public sealed record ExtractionCompleted(Guid RunId, string JobName, Guid ExtractionId, int BatchCount, long RowCount, CursorPosition? High);
