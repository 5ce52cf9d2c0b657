namespace Sync.Coordinator.Data;

/// <summary>A loaded batch of a run; its key makes a repeated BatchLoaded count once.</summary>
public sealed class SyncRunBatch
{
    public Guid RunId { get; set; }

    public Guid ExtractionId { get; set; }

    public int BatchSeq { get; set; }

    public int Rows { get; set; }

    public int Inserted { get; set; }

    public int Updated { get; set; }

    public int Skipped { get; set; }

    public int Failed { get; set; }

    /// <summary>Destination rows the batch's deletes removed or soft-deleted (cdc).</summary>
    public int Deleted { get; set; }

    public DateTimeOffset LoadedAt { get; set; }

    /// <summary>What loading the batch did to the destination table's shape; null for nothing.</summary>
    public string[]? SchemaChanges { get; set; }

    /// <summary>The stream (<c>JOB.STREAM</c>) a cdc streams job's batch loaded; null for a job of one table.</summary>
    public string? Stream { get; set; }
}
