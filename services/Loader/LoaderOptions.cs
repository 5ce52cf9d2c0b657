using System.ComponentModel.DataAnnotations;

namespace Sync.Loader;

/// <summary>The Loader's settings, section <c>Loader</c>.</summary>
public sealed class LoaderOptions
{
    public const string SectionName = "Loader";

    /// <summary>
    /// How long a destination remembers an applied batch (sync.applied_batches), so that a redelivered
    /// batch is recognised and counted once. Keep it well past the longest redelivery chain
    /// (Redelivery:Intervals adds up to about 13 minutes by default). Default 7 days.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "365.00:00:00")]
    public TimeSpan AppliedBatchRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often applied batches past <see cref="AppliedBatchRetention"/> are deleted. Default 10 minutes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan CleanupInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// This Loader's name, recorded with every batch it applies (sync.applied_batches.loaded_by), so
    /// the work of several Loaders can be told apart. Default: host name and process id.
    /// </summary>
    [Required]
    [StringLength(200, MinimumLength = 1)]
    public string InstanceName { get; set; } = $"{System.Environment.MachineName}/{System.Environment.ProcessId}";

    /// <summary>Rows deleted per statement by the cleanup. Default 1000.</summary>
    [Range(1, 100_000)]
    public int CleanupSliceSize { get; set; } = 1000;

    /// <summary>A folder whose *.dll files are searched for [SyncSink] classes at start-up; none by default.</summary>
    public string? Plugins { get; set; }
}
