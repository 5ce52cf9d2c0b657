namespace Sync.Coordinator.Data;

/// <summary>
/// One verification of a job (issue 15). <see cref="Outcome"/> is <c>Equal</c>, <c>Different</c> or
/// <c>Unverifiable</c>; <see cref="Watermark"/> is the cursor value an incremental job was verified
/// up to; <see cref="Mismatches"/> holds the first keys found (JSON), the counts are exact.
/// </summary>
public sealed class SyncVerification
{
    public Guid Id { get; set; }

    public string JobName { get; set; } = null!;

    public DateTimeOffset VerifiedAt { get; set; }

    public string Outcome { get; set; } = null!;

    public string? Reason { get; set; }

    public string? Watermark { get; set; }

    public long SourceRows { get; set; }

    public long DestinationRows { get; set; }

    public int Missing { get; set; }

    public int Extra { get; set; }

    public int Different { get; set; }

    public int Duplicated { get; set; }

    public long DurationMs { get; set; }

    public string Mismatches { get; set; } = "[]";

    public Guid? RepairRunId { get; set; }
}
