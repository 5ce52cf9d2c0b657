namespace Sync.Coordinator.Data;

/// <summary>
/// A job's committed watermark. <see cref="Cursor"/> is the exact (cursor, key…) position;
/// <see cref="LastSync"/> is its cursor value when that is a timestamp.
/// </summary>
public sealed class SyncWatermark
{
    public string Key { get; set; } = null!;

    public DateTimeOffset? LastSync { get; set; }

    public string Cursor { get; set; } = null!;

    public string Metadata { get; set; } = "{}";

    public DateTimeOffset UpdatedAt { get; set; }
}
