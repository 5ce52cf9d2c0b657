using System.Globalization;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.S3;

/// <summary>
/// The deterministic object keys of an S3 destination:
/// <c>{prefix}/{job}/run={run id}/extraction={extraction id}/batch-{seq:000000}.{format}</c>, and
/// <c>{prefix}/{job}/run={run id}/manifest.json</c>. A batch written again lands on the same key, so a
/// redelivery overwrites rather than duplicates; the extraction is part of the key because a redelivered
/// ExtractBatches numbers its batches from 0 again.
/// </summary>
public static class BatchObjectKeys
{
    public static string RunPrefix(JobSpec job, Guid runId) =>
        $"{Prefix(job)}{job.Name}/run={runId:D}/";

    public static string ExtractionPrefix(JobSpec job, Guid runId, Guid extractionId) =>
        $"{RunPrefix(job, runId)}extraction={extractionId:D}/";

    public static string Batch(JobSpec job, Guid runId, Guid extractionId, int batchSeq) =>
        $"{ExtractionPrefix(job, runId, extractionId)}batch-{batchSeq.ToString("D6", CultureInfo.InvariantCulture)}.{Spec(job).Format}";

    public static string Manifest(JobSpec job, Guid runId) => $"{RunPrefix(job, runId)}manifest.json";

    internal static S3DestinationSpec Spec(JobSpec job) =>
        job.Destination.S3 ?? throw new InvalidOperationException($"Job {job.Name} has no s3 destination settings (prefix, format).");

    private static string Prefix(JobSpec job)
    {
        var prefix = Spec(job).Prefix.Trim('/');
        return prefix.Length == 0 ? string.Empty : prefix + "/";
    }
}
