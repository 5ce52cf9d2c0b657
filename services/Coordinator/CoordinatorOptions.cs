using System.ComponentModel.DataAnnotations;

namespace Sync.Coordinator;

/// <summary>The Coordinator's settings, section <c>Coordinator</c>.</summary>
public sealed class CoordinatorOptions
{
    public const string SectionName = "Coordinator";

    /// <summary>
    /// An active run with no progress for this long ends Failed, its watermark unchanged. Progress: a batch
    /// loaded, or its extraction reporting that it still reads (every quarter of this). Default 30 minutes.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "7.00:00:00")]
    public TimeSpan RunTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>
    /// How long the Coordinator waits for a stage to answer what it cannot do itself — drop a cdc
    /// slot, check a job's live schemas: the Extractor holds the connections (issue 17). An
    /// unanswered request expires in its queue, and the operation reports that the stage did not
    /// answer. Kept below the CLI's 30 s HTTP timeout. Default 00:00:20.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StageRequestTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// How long the Coordinator waits before trying again to drop the slots of removed cdc jobs it
    /// could not drop (the Extractor did not answer, the source failed); the wait doubles after each
    /// attempt that still leaves one, up to 10 minutes. Default 00:00:30.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan CdcSlotCleanupRetry { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How often a continuous cdc streams job's <c>streams:</c> patterns are resolved again against the
    /// source catalog, so that a table created since joins the streams (published, copied alone, then
    /// followed) and a dropped one leaves them at the next run, without a reload. Default 00:00:30.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan StreamsRefreshInterval { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long finished runs (with their batches and metrics rows) and verifications are kept; each
    /// job's latest run and verification are kept whatever their age. Zero keeps everything. Pruned
    /// hourly. Default 30 days.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "3650.00:00:00")]
    public TimeSpan RunHistoryRetention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>How often active runs are checked against <see cref="RunTimeout"/>, in seconds. Default 15.</summary>
    [Range(1, 3600)]
    public int RunTimeoutSweepSeconds { get; set; } = 15;

    /// <summary>
    /// The key that calls which change something must send as the X-Api-Key header. Default none:
    /// then such calls, and reads of /api, are accepted from loopback clients only.
    /// </summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// A key that reads the API but changes nothing (a monitoring tool, a read-only dashboard user),
    /// sent as X-Api-Key. With <see cref="ApiKey"/> or this set, every read of /api needs one of them.
    /// </summary>
    public string? ReadApiKey { get; set; }

    /// <summary>
    /// The host names (Host header) the API and the dashboard answer, separated by ';', with
    /// wildcards as "*.example.com"; "*" answers any. Default the loopback names: another name a
    /// browser resolves to this machine (DNS rebinding) is refused. Add the names clients use, e.g.
    /// "localhost;127.0.0.1;coordinator" in compose.
    /// </summary>
    [Required]
    public string AllowedHosts { get; set; } = "localhost;127.0.0.1;[::1]";

    /// <summary>
    /// Origins (scheme://host:port, separated by ';') besides this server's own whose pages may send
    /// changes, e.g. a reverse proxy's public origin. Default none.
    /// </summary>
    public string AllowedOrigins { get; set; } = "";
}

/// <summary>Where job files are, section <c>Jobs</c>.</summary>
public sealed class JobsOptions
{
    public const string SectionName = "Jobs";

    /// <summary>Folder of *.yml job files. Default "jobs".</summary>
    [Required]
    public string Directory { get; set; } = "jobs";

    /// <summary>Check each job against its live source and destination schemas at start-up. Default true.</summary>
    public bool CheckSchemasOnStart { get; set; } = true;

    /// <summary>
    /// How often the folder is looked at for added, changed or removed job files, read again once a
    /// change has settled for one more interval (so a change takes effect within about twice this).
    /// Zero turns the watch off: then only POST /api/jobs/reload reads it again. Default 00:00:02.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "01:00:00")]
    public TimeSpan WatchInterval { get; set; } = TimeSpan.FromSeconds(2);
}
