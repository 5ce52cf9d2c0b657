namespace Sync.Contracts;

/// <summary>A batch is in the destination. Counts are per record of the batch.</summary>
public sealed record BatchLoaded(
    Guid RunId,
    string JobName,
    Guid ExtractionId,
    int BatchSeq,
    int Rows,
    int Inserted,
    int Updated,
    int Skipped,
    int Failed);
