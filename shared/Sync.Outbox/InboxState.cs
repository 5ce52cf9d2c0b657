namespace Sync.Outbox;

/// <summary>One message as one consumer saw it: the inbox row that makes a redelivered duplicate do nothing.</summary>
public sealed class InboxState
{
    public long Id { get; set; }

    /// <summary>The original message id (MT-OriginalMessageId when the message was rescheduled, else its MessageId).</summary>
    public Guid MessageId { get; set; }

    /// <summary>Deterministic per endpoint and consumer type, so it is the same across restarts and replicas.</summary>
    public Guid ConsumerId { get; set; }

    /// <summary>A new value on every pass, so the locked row always changes.</summary>
    public Guid LockId { get; set; }

    public int RowVersion { get; set; }

    public DateTime Received { get; set; }

    public int ReceiveCount { get; set; }

    public DateTime? ExpirationTime { get; set; }

    public DateTime? Consumed { get; set; }

    public DateTime? Delivered { get; set; }

    public long? LastSequenceNumber { get; set; }
}
