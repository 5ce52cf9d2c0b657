using Sync.Batches;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Transformer;

/// <summary>
/// Refuses a transformed batch too large for one message. The Extractor cuts batches at the job's
/// batch_bytes; expressions, lookups and C# transforms may make rows larger, and a batch up to
/// <see cref="BatchLimits.MaxBytes"/> still goes on as it is. The Transformer does not split a batch:
/// (run, extraction, batch_seq) is the unit the Loader's inbox (sync.applied_batches), the
/// Coordinator's count of a run's batches, the cdc apply order and the dead letters' row indexes
/// all rest on, so a split would need a part number in each (issue 16). Past the limit the batch
/// fails for good, and its run with it, naming the fix, rather than be refused by the broker.
/// </summary>
internal static class LoadBatchSize
{
    public static void Check(TransformBatch message, RecordBatch batch, IReadOnlyList<RejectedRecord> rejected)
    {
        var bytes = batch.Rows.LongLength + rejected.Sum(r => (long)r.Record.Rows.Length);
        if (bytes > BatchLimits.MaxBytes)
        {
            throw new BatchTooLargeException(
                $"Job {message.JobName}: batch {message.BatchSeq} is {BatchCut.Describe(bytes)} after the transform " +
                $"({BatchCut.Describe(message.Batch.Rows.LongLength)} before), more than the {BatchCut.Describe(BatchLimits.MaxBytes)} one batch message can carry; " +
                $"lower batch_bytes (now {BatchCut.Describe(message.Job.BatchBytes)}) so that batches still fit once the transform has made their rows larger.");
        }
    }
}
