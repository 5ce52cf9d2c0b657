namespace Sync.Sdk;

/// <summary>
/// A destination written in C#. The Loader hands it each batch of the run, after the transform, and
/// counts every record it does not report as failed as loaded. Mark the class with
/// <see cref="SyncSinkAttribute"/> and name it in the job file: <c>destination: { type: code, name: NAME }</c>.
/// <para>
/// A sink must be idempotent by (<see cref="SinkBatch.RunId"/>, <see cref="SinkBatch.BatchSeq"/>): a
/// batch can be delivered again (a Loader that crashed before acknowledging it, a redelivery after a
/// transient error, a replayed run), and writing it again must leave the destination as one write
/// did, e.g. by overwriting what is keyed by run and batch, or by upserting on the record's key.
/// </para>
/// A new instance serves each batch. An exception fails the batch, which is retried and redelivered
/// like any destination error.
/// </summary>
public interface ISyncSink
{
    /// <summary>Writes the batch; returns the records it refused (each becomes a dead letter of stage <c>load</c>), or an empty list.</summary>
    Task<IReadOnlyList<SinkFailure>> WriteAsync(SinkBatch batch, CancellationToken cancellationToken);
}

/// <summary>
/// One batch for a sink: the job, the run and the batch's sequence number in it (from 1), which
/// identify the batch across redeliveries, and its records. <see cref="ExtractionId"/> changes when a
/// run's extraction starts over, which numbers its batches from 1 again.
/// </summary>
public sealed record SinkBatch(string JobName, Guid RunId, Guid ExtractionId, int BatchSeq, SyncSchema Schema, IReadOnlyList<SyncRecord> Records);

/// <summary>A record the sink refused: its index in <see cref="SinkBatch.Records"/> and why.</summary>
public sealed record SinkFailure(int RecordIndex, string Reason);
