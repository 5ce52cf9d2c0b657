using System.Diagnostics.Metrics;
using Sync.ServiceDefaults;

namespace Sync.Transformer;

internal static class TransformerTelemetry
{
    /// <summary>Records a job's filter (or C# transform) dropped: not loaded, not counted in the run's rows.</summary>
    public static readonly Counter<long> RowsFiltered = SyncTelemetry.Meter.CreateCounter<long>("sync.rows.filtered", "{row}");
}
