namespace Sync.Outbox;

/// <summary>A unit of work outside a consumer (e.g. an API request) whose messages the delivery service sends.</summary>
public sealed class OutboxState
{
    public Guid OutboxId { get; set; }

    public Guid LockId { get; set; }

    public int RowVersion { get; set; }

    public DateTime Created { get; set; }

    public DateTime? Delivered { get; set; }

    public long? LastSequenceNumber { get; set; }
}
