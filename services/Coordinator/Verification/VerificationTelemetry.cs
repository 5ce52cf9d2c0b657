using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Sync.Contracts;
using Sync.ServiceDefaults;

namespace Sync.Coordinator.Verification;

/// <summary>
/// The gauge sync.verify.mismatched_rows: the keys the job's latest verification in this process
/// found missing, extra, different or repeated (no value for a job not verified since the start).
/// </summary>
internal static class VerificationTelemetry
{
    private static readonly ConcurrentDictionary<string, long> Latest = new(StringComparer.Ordinal);

    private static readonly ObservableGauge<long> MismatchedRows =
        SyncTelemetry.Meter.CreateObservableGauge(
            "sync.verify.mismatched_rows",
            () => Latest.Select(j => new Measurement<long>(j.Value, SyncTelemetry.JobTag(j.Key))),
            "rows",
            "Keys the job's latest verify found missing, extra, different or repeated");

    public static void Verified(string jobName, JobVerified result)
    {
        _ = MismatchedRows;
        if (result.Outcome != VerifyOutcome.Unverifiable)
        {
            Latest[jobName] = (long)result.Missing + result.Extra + result.Different + result.Duplicated;
        }
    }
}
