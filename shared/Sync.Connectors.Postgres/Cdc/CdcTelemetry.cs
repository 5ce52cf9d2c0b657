using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// Replication lag and retained WAL of cdc jobs, on the <c>Sync</c> meter the services export:
/// <c>sync.cdc.lag</c> (per job: a batch's oldest source commit to the batch cut, just before it is sent; ms),
/// <c>sync.cdc.wal.retained</c> and
/// <c>sync.cdc.wal.unconfirmed</c> (bytes behind the server's current WAL position, per job, read at each run's start).
/// </summary>
public static class CdcTelemetry
{
    private static readonly Meter Meter = new("Sync");
    private static readonly ConcurrentDictionary<string, (long Retained, long Unconfirmed)> Slots = new(StringComparer.Ordinal);

    private static readonly Histogram<double> Lag = Meter.CreateHistogram<double>("sync.cdc.lag", "ms", "A batch's oldest source commit to the batch cut");

    static CdcTelemetry()
    {
        Meter.CreateObservableGauge("sync.cdc.wal.retained", () => Slots.Select(s => new Measurement<long>(s.Value.Retained, new KeyValuePair<string, object?>("job", s.Key))), "By");
        Meter.CreateObservableGauge("sync.cdc.wal.unconfirmed", () => Slots.Select(s => new Measurement<long>(s.Value.Unconfirmed, new KeyValuePair<string, object?>("job", s.Key))), "By");
    }

    public static void RecordLag(string job, TimeSpan lag) => Lag.Record(lag.TotalMilliseconds, new KeyValuePair<string, object?>("job", job));

    public static void RecordRetainedWal(string job, long retained, long unconfirmed) => Slots[job] = (retained, unconfirmed);
}
