using Sync.Contracts;

namespace Sync.Messaging.Serialization;

/// <summary>The stage messages whose batch travels outside the JSON envelope (<see cref="BatchBodySerializer"/>).</summary>
internal static class BatchPayload
{
    /// <summary>The message with its batch's rows and operations taken out, and the batch; null for other messages.</summary>
    public static (object Stripped, RecordBatch Batch)? Split(object message) => message switch
    {
        TransformBatch transform => (transform with { Batch = Strip(transform.Batch) }, transform.Batch),
        LoadBatch load => (load with { Batch = Strip(load.Batch) }, load.Batch),
        _ => null,
    };

    /// <summary>The message read from the envelope with its batch's rows and operations put back; other messages as they are.</summary>
    public static T Fill<T>(T message, byte[] rows, byte[]? operations) => message switch
    {
        TransformBatch transform => (T)(object)(transform with { Batch = transform.Batch with { Rows = rows, Operations = operations } }),
        LoadBatch load => (T)(object)(load with { Batch = load.Batch with { Rows = rows, Operations = operations } }),
        _ => message,
    };

    private static RecordBatch Strip(RecordBatch batch) => batch with { Rows = [], Operations = null };
}
