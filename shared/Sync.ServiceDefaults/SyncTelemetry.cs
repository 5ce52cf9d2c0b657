using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Sync.ServiceDefaults;

/// <summary>Sync's own activity source and meter, shared by every service.</summary>
public static class SyncTelemetry
{
    public const string SourceName = "Sync";

    public static readonly ActivitySource Source = new(SourceName);

    public static readonly Meter Meter = new(SourceName);

    public static readonly Counter<long> RowsExtracted = Meter.CreateCounter<long>("sync.rows.extracted", "{row}");

    public static readonly Counter<long> RowsTransformed = Meter.CreateCounter<long>("sync.rows.transformed", "{row}");

    public static readonly Counter<long> RowsLoaded = Meter.CreateCounter<long>("sync.rows.loaded", "{row}");

    /// <summary>Batches a destination refused because a later run of their job had loaded into it.</summary>
    public static readonly Counter<long> BatchesSuperseded = Meter.CreateCounter<long>("sync.batches.superseded", "{batch}");

    public static readonly Histogram<double> BatchLoadDuration = Meter.CreateHistogram<double>("sync.batch.load.duration", "ms");

    public static readonly Histogram<double> BatchTransformDuration = Meter.CreateHistogram<double>("sync.batch.transform.duration", "ms");

    /// <summary>Runs that ended, by job and final state (Completed, Failed).</summary>
    public static readonly Counter<long> RunsFinished = Meter.CreateCounter<long>("sync.runs", "{run}");

    public static readonly Histogram<double> RunDuration = Meter.CreateHistogram<double>("sync.run.duration", "s");

    /// <summary>Rows of finished runs, by job and result (inserted, updated, skipped, failed).</summary>
    public static readonly Counter<long> RunRows = Meter.CreateCounter<long>("sync.run.rows", "{row}");

    /// <summary>Dead letters recorded, by job, stage and kind (record, message).</summary>
    public static readonly Counter<long> DeadLetters = Meter.CreateCounter<long>("sync.dead_letters", "{record}");

    public static KeyValuePair<string, object?> JobTag(string job) => new(RunContext.JobTag, job);
}
