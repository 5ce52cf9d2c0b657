namespace Sync.Coordinator.Data;

/// <summary>The figures of one finished run.</summary>
public sealed class SyncMetric
{
    public long Id { get; set; }

    public string JobName { get; set; } = null!;

    public Guid RunId { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset FinishedAt { get; set; }

    public long Processed { get; set; }

    public long Inserted { get; set; }

    public long Updated { get; set; }

    public long Skipped { get; set; }

    public long Errors { get; set; }

    public long DurationMs { get; set; }

    /// <summary>Rows a full refresh deleted or soft-deleted.</summary>
    public long Deleted { get; set; }
}
