namespace Sync.Outbox;

/// <summary>Table and column names of the inbox and outbox, snake_case like the rest of Sync's bookkeeping.</summary>
public static class OutboxTables
{
    public const string InboxState = "inbox_state";
    public const string OutboxMessage = "outbox_message";
    public const string OutboxState = "outbox_state";

    public static class Columns
    {
        public const string Id = "id";
        public const string MessageId = "message_id";
        public const string ConsumerId = "consumer_id";
        public const string LockId = "lock_id";
        public const string RowVersion = "row_version";
        public const string Received = "received";
        public const string ReceiveCount = "receive_count";
        public const string ExpirationTime = "expiration_time";
        public const string Consumed = "consumed";
        public const string Delivered = "delivered";
        public const string LastSequenceNumber = "last_sequence_number";
        public const string SequenceNumber = "sequence_number";
        public const string ConversationId = "conversation_id";
        public const string CorrelationId = "correlation_id";
        public const string InitiatorId = "initiator_id";
        public const string RequestId = "request_id";
        public const string SourceAddress = "source_address";
        public const string DestinationAddress = "destination_address";
        public const string ResponseAddress = "response_address";
        public const string FaultAddress = "fault_address";
        public const string ContentType = "content_type";
        public const string MessageType = "message_type";
        public const string Body = "body";
        public const string Headers = "headers";
        public const string Properties = "properties";
        public const string SentTime = "sent_time";
        public const string EnqueueTime = "enqueue_time";
        public const string InboxMessageId = "inbox_message_id";
        public const string InboxConsumerId = "inbox_consumer_id";
        public const string OutboxId = "outbox_id";
        public const string Created = "created";
    }
}
