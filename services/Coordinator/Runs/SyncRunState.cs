using MassTransit;

namespace Sync.Coordinator.Runs;

/// <summary>One run of a job, as the run saga keeps it in sync_runs.</summary>
public sealed class SyncRunState : SagaStateMachineInstance
{
    public Guid CorrelationId { get; set; }

    public string CurrentState { get; set; } = null!;

    public string JobName { get; set; } = null!;

    public string Trigger { get; set; } = null!;

    /// <summary>The committed watermark the run reads after (JSON of a CursorPosition), null on a first run.</summary>
    public string? StartCursor { get; set; }

    /// <summary>Orders the job's runs for the destinations: batches of a run older than one a destination has seen are refused.</summary>
    public long Fence { get; set; }

    /// <summary>The extraction whose batches the run waits for: the last to take the run's fence, once it completed.</summary>
    public Guid? ExtractionId { get; set; }

    /// <summary>A load in key ranges (sync_run_ranges): how many; null for a run read in one extraction.</summary>
    public int? RangeCount { get; set; }

    /// <summary>Ranges whose extraction the run took; once all are, <see cref="ExpectedBatches"/> is the sum of their batches.</summary>
    public int RangesExtracted { get; set; }

    public int? ExpectedBatches { get; set; }

    public int LoadedBatches { get; set; }

    public long ExtractedRows { get; set; }

    /// <summary>The position of the last extracted row (JSON), the watermark to commit.</summary>
    public string? HighCursor { get; set; }

    public long Processed { get; set; }

    public long Inserted { get; set; }

    public long Updated { get; set; }

    public long Skipped { get; set; }

    public long Errors { get; set; }

    public string? FailureReason { get; set; }

    /// <summary>A full refresh that deletes or soft-deletes: once every batch is loaded, the run sweeps the destination before it completes.</summary>
    public bool SweepsDeletes { get; set; }

    /// <summary>Rows the run deleted or soft-deleted in the destination: a cdc run's deletes, a full refresh's sweep.</summary>
    public long Deleted { get; set; }

    public DateTimeOffset RequestedAt { get; set; }

    public DateTimeOffset StartedAt { get; set; }

    public DateTimeOffset? FinishedAt { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }

    public bool IsFullyLoaded => ExpectedBatches is { } expected && LoadedBatches >= expected;
}
