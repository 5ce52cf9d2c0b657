namespace Sync.Coordinator.Data;

/// <summary>A job whose schedule is paused: scheduled runs are skipped until it is resumed.</summary>
public sealed class SyncJobPause
{
    public string JobName { get; set; } = null!;

    public DateTimeOffset PausedAt { get; set; }
}
