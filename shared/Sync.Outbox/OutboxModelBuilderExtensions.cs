using Sync.Outbox;

namespace Microsoft.EntityFrameworkCore;

public static class OutboxModelBuilderExtensions
{
    /// <summary>
    /// Maps inbox_state, outbox_message and outbox_state into the host's DbContext, so that the
    /// inbox row, the captured messages and the consumer's own data share one transaction. The
    /// schema itself comes from the host's migrations.
    /// </summary>
    public static ModelBuilder AddSyncOutbox(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<InboxState>(inbox =>
        {
            inbox.ToTable(OutboxTables.InboxState);
            inbox.HasKey(x => x.Id);
            inbox.Property(x => x.Id).HasColumnName(OutboxTables.Columns.Id).UseIdentityAlwaysColumn();
            inbox.Property(x => x.MessageId).HasColumnName(OutboxTables.Columns.MessageId);
            inbox.Property(x => x.ConsumerId).HasColumnName(OutboxTables.Columns.ConsumerId);
            inbox.Property(x => x.LockId).HasColumnName(OutboxTables.Columns.LockId);
            inbox.Property(x => x.RowVersion).HasColumnName(OutboxTables.Columns.RowVersion).IsConcurrencyToken();
            inbox.Property(x => x.Received).HasColumnName(OutboxTables.Columns.Received);
            inbox.Property(x => x.ReceiveCount).HasColumnName(OutboxTables.Columns.ReceiveCount);
            inbox.Property(x => x.ExpirationTime).HasColumnName(OutboxTables.Columns.ExpirationTime);
            inbox.Property(x => x.Consumed).HasColumnName(OutboxTables.Columns.Consumed);
            inbox.Property(x => x.Delivered).HasColumnName(OutboxTables.Columns.Delivered);
            inbox.Property(x => x.LastSequenceNumber).HasColumnName(OutboxTables.Columns.LastSequenceNumber);
            inbox.HasIndex(x => new { x.MessageId, x.ConsumerId }).IsUnique();
            inbox.HasIndex(x => x.Delivered);
        });

        modelBuilder.Entity<OutboxMessage>(message =>
        {
            message.ToTable(OutboxTables.OutboxMessage);
            message.HasKey(x => x.SequenceNumber);
            message.Property(x => x.SequenceNumber).HasColumnName(OutboxTables.Columns.SequenceNumber).UseIdentityAlwaysColumn();
            message.Property(x => x.MessageId).HasColumnName(OutboxTables.Columns.MessageId);
            message.Property(x => x.ConversationId).HasColumnName(OutboxTables.Columns.ConversationId);
            message.Property(x => x.CorrelationId).HasColumnName(OutboxTables.Columns.CorrelationId);
            message.Property(x => x.InitiatorId).HasColumnName(OutboxTables.Columns.InitiatorId);
            message.Property(x => x.RequestId).HasColumnName(OutboxTables.Columns.RequestId);
            message.Property(x => x.SourceAddress).HasColumnName(OutboxTables.Columns.SourceAddress);
            message.Property(x => x.DestinationAddress).HasColumnName(OutboxTables.Columns.DestinationAddress);
            message.Property(x => x.ResponseAddress).HasColumnName(OutboxTables.Columns.ResponseAddress);
            message.Property(x => x.FaultAddress).HasColumnName(OutboxTables.Columns.FaultAddress);
            message.Property(x => x.ContentType).HasColumnName(OutboxTables.Columns.ContentType);
            message.Property(x => x.MessageType).HasColumnName(OutboxTables.Columns.MessageType);
            message.Property(x => x.Body).HasColumnName(OutboxTables.Columns.Body);
            message.Property(x => x.Headers).HasColumnName(OutboxTables.Columns.Headers).HasColumnType("jsonb");
            message.Property(x => x.Properties).HasColumnName(OutboxTables.Columns.Properties).HasColumnType("jsonb");
            message.Property(x => x.SentTime).HasColumnName(OutboxTables.Columns.SentTime);
            message.Property(x => x.EnqueueTime).HasColumnName(OutboxTables.Columns.EnqueueTime);
            message.Property(x => x.ExpirationTime).HasColumnName(OutboxTables.Columns.ExpirationTime);
            message.Property(x => x.InboxMessageId).HasColumnName(OutboxTables.Columns.InboxMessageId);
            message.Property(x => x.InboxConsumerId).HasColumnName(OutboxTables.Columns.InboxConsumerId);
            message.Property(x => x.OutboxId).HasColumnName(OutboxTables.Columns.OutboxId);
            message.HasIndex(x => new { x.InboxMessageId, x.InboxConsumerId, x.SequenceNumber });
            message.HasIndex(x => new { x.OutboxId, x.SequenceNumber });
            message.HasIndex(x => x.EnqueueTime);
            message.HasIndex(x => x.ExpirationTime);
        });

        modelBuilder.Entity<OutboxState>(state =>
        {
            state.ToTable(OutboxTables.OutboxState);
            state.HasKey(x => x.OutboxId);
            state.Property(x => x.OutboxId).HasColumnName(OutboxTables.Columns.OutboxId).ValueGeneratedNever();
            state.Property(x => x.LockId).HasColumnName(OutboxTables.Columns.LockId);
            state.Property(x => x.RowVersion).HasColumnName(OutboxTables.Columns.RowVersion).IsConcurrencyToken();
            state.Property(x => x.Created).HasColumnName(OutboxTables.Columns.Created);
            state.Property(x => x.Delivered).HasColumnName(OutboxTables.Columns.Delivered);
            state.Property(x => x.LastSequenceNumber).HasColumnName(OutboxTables.Columns.LastSequenceNumber);
            state.HasIndex(x => x.Created);
        });

        return modelBuilder;
    }
}
