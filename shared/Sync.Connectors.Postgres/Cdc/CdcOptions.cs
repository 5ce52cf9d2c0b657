using System.ComponentModel.DataAnnotations;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>How a cdc run reads its replication slot (section <c>Cdc</c>, e.g. <c>Cdc__RunDuration</c>).</summary>
public sealed class CdcOptions
{
    public const string SectionName = "Cdc";

    /// <summary>The longest a run streams before it ends and its watermark is committed. Default 10 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan RunDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A batch that has not reached the job's batch_size is sent after this long. Default 50 ms: below
    /// batch_size every change waits up to this long before it leaves, the floor of cdc latency (issue 16:
    /// at 1,000 changes/s, p50 341 ms and p95 514 ms with 200 ms, 226 ms and 455 ms with 50 ms, on a loaded
    /// machine), for about a fifth more Coordinator CPU at that rate (four times the batches).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(50);

    /// <summary>A run that sent changes ends once the slot has been quiet this long (caught up). Default 1 s.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "01:00:00")]
    public TimeSpan IdleEnd { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long a run waits for the server to decode again the WAL its slot keeps before the watermark
    /// before its <see cref="RunDuration"/> starts anyway (the server sends nothing meanwhile). Default 1 min.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan CatchUpLimit { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Retained WAL of a slot past which each run logs a warning, in bytes. Default 1 GiB.</summary>
    [Range(1L, long.MaxValue)]
    public long RetainedWalWarningBytes { get; set; } = 1L << 30;
}
