namespace Sync.Contracts.Jobs;

/// <summary>
/// How many bytes of rows a batch may hold (<see cref="JobSpec.BatchBytes"/>, <c>batch_bytes</c> in a job file).
/// A batch travels inline in one RabbitMQ message: between stages as its bytes after a JSON envelope
/// (Sync.Messaging's BatchBodySerializer), but a batch the Coordinator sends again from its outbox
/// (a dead letter's replay) is MassTransit's JSON, its rows (a byte[]) base64, 4/3 of their size.
/// RabbitMQ 3.10 refuses messages over its <c>max_message_size</c>, 128 MiB by default
/// (scripts/infra.sh leaves it so). <see cref="MaxBytes"/> of rows is at most an 85 MiB message,
/// with room for the envelope and the records set aside; a single row larger than that cannot
/// travel at all and fails its run (issue 16).
/// </summary>
public static class BatchLimits
{
    /// <summary>8 MiB: a 1,000-row batch of 8 KB rows.</summary>
    public const int DefaultBytes = 8 * 1024 * 1024;

    /// <summary>64 KiB: below it a batch of ordinary rows would hold a handful, and the per-batch costs dominate.</summary>
    public const int MinBytes = 64 * 1024;

    /// <summary>64 MiB: the most a batch, or a single row, may hold and still fit the broker's message size limit.</summary>
    public const int MaxBytes = 64 * 1024 * 1024;
}
