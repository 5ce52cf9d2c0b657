using System.Globalization;
using Sync.Contracts.Jobs;

namespace Sync.Batches;

/// <summary>
/// Where a stream of rows is cut into batches by size: a batch holds at most the job's
/// <c>batch_bytes</c> of encoded rows, except that a single larger row still goes, alone; a row
/// larger than a message can carry stops the extraction (issue 16: 1,000 rows of 150 KB made one
/// 150 MB batch, over RabbitMQ's 128 MiB message limit).
/// </summary>
public static class BatchCut
{
    /// <summary>Whether the rows gathered must go before a row of <paramref name="rowBytes"/> joins them.</summary>
    public static bool IsFullBefore(TupleBuffer rows, int rowBytes, int batchBytes) =>
        rows.RowCount > 0 && (long)rows.Length + rowBytes > batchBytes;

    /// <summary>Throws <see cref="BatchTooLargeException"/> when one row of <paramref name="rowBytes"/> cannot travel in any batch.</summary>
    public static void CheckRow(long rowBytes, string jobName)
    {
        if (rowBytes > BatchLimits.MaxBytes)
        {
            throw new BatchTooLargeException(
                $"Job {jobName}: a row is {Describe(rowBytes)} encoded, more than the {Describe(BatchLimits.MaxBytes)} one batch message can carry " +
                "(RabbitMQ's 128 MiB max_message_size; a replayed batch travels base64-encoded); leave the large column out with columns:, or shorten the value at the source.");
        }
    }

    /// <summary>A byte count as people read it: 150.0 KiB, 64.0 MiB.</summary>
    public static string Describe(long bytes) => bytes switch
    {
        >= 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.0} MiB"),
        >= 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.0} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes} bytes"),
    };
}
