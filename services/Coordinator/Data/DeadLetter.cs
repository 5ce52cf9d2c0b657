namespace Sync.Coordinator.Data;

/// <summary>A record a stage set aside, or a message a stage gave up on (see 0003_dead_letters.sql).</summary>
public sealed class DeadLetter
{
    public long Id { get; set; }

    public string Kind { get; set; } = null!;

    public string JobName { get; set; } = null!;

    /// <summary>The stream (<c>JOB.STREAM</c>) of a streams job the record belongs to; null for a job of one table (0015_dead_letter_stream.sql).</summary>
    public string? Stream { get; set; }

    public Guid RunId { get; set; }

    public Guid ExtractionId { get; set; }

    public int BatchSeq { get; set; }

    public int RowIndex { get; set; }

    public string Stage { get; set; } = null!;

    public string Error { get; set; } = null!;

    public string? Queue { get; set; }

    /// <summary>JSON of the record's BatchColumn list.</summary>
    public string? RecordColumns { get; set; }

    public byte[]? RecordTuple { get; set; }

    /// <summary>JSON object: column name → the value in PostgreSQL text form.</summary>
    public string? RecordText { get; set; }

    public int Attempts { get; set; }

    public string Status { get; set; } = null!;

    public Guid? ReplayRunId { get; set; }

    public int? ReplayBatchSeq { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    public DateTimeOffset? ResolvedAt { get; set; }
}

/// <summary>The values of dead_letters.status and dead_letters.kind.</summary>
public static class DeadLetterStates
{
    public const string Pending = "pending";
    public const string Replaying = "replaying";
    public const string Replayed = "replayed";
    public const string Discarded = "discarded";
    public const string Record = "record";
    public const string Message = "message";
}
