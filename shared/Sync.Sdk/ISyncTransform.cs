namespace Sync.Sdk;

/// <summary>
/// A transform written in C#, for logic a job file cannot express. The Transformer runs it on each
/// record after the job's column mapping (so it sees destination column names); mark the class
/// with <see cref="SyncTransformAttribute"/> and name it in the job file: <c>transform: { code: name }</c>.
/// One instance serves a whole batch, on one thread; it must not keep state between batches.
/// </summary>
public interface ISyncTransform
{
    /// <summary>Called once per batch shape: add the columns <see cref="Transform"/> sets, or remove some. The default keeps the columns.</summary>
    void DescribeOutput(SyncSchema schema)
    {
    }

    /// <summary>
    /// Reads and changes <paramref name="record"/> in place. Return <see cref="TransformResult.Keep"/>,
    /// <see cref="TransformResult.Drop"/> (filtered out) or <see cref="TransformResult.Reject"/> (a dead
    /// letter of stage <c>transform</c>, with the reason). An exception rejects the record with its message.
    /// </summary>
    TransformResult Transform(SyncRecord record);
}
