using System.Diagnostics;
using MassTransit;
using MassTransit.Context;
using MassTransit.Logging;

namespace Sync.Outbox;

/// <summary>Turns a send that MassTransit prepared (serializer, headers, addresses) into an outbox row.</summary>
internal static class OutboxMessageFactory
{
    public static OutboxMessage Create<T>(SendContext<T> context, IObjectDeserializer serializer, Guid? inboxMessageId, Guid? inboxConsumerId, Guid? outboxId)
        where T : class
    {
        var messageId = context.MessageId ?? throw new MessageException(typeof(T), "An outbox message needs a MessageId.");
        // MassTransit's "outbox send" span writes this header when its log context is set; where it
        // is not (outside a consumer), the current span is stored, so the delivered message continues its trace.
        if (Activity.Current?.Id is { } activityId && !context.Headers.TryGetHeader(DiagnosticHeaders.ActivityId, out _))
        {
            context.Headers.Set(DiagnosticHeaders.ActivityId, activityId);
        }

        var now = DateTime.UtcNow;
        var message = new OutboxMessage
        {
            MessageId = messageId,
            ConversationId = context.ConversationId,
            CorrelationId = context.CorrelationId,
            InitiatorId = context.InitiatorId,
            RequestId = context.RequestId,
            SourceAddress = context.SourceAddress,
            DestinationAddress = context.DestinationAddress,
            ResponseAddress = context.ResponseAddress,
            FaultAddress = context.FaultAddress,
            SentTime = context.SentTime is { } sent ? Utc(sent) : now,
            ContentType = context.ContentType?.ToString() ?? context.Serialization.DefaultContentType.ToString(),
            MessageType = string.Join(";", context.SupportedMessageTypes),
            Body = context.Serializer.GetMessageBody(context).GetString(),
            Headers = serializer.SerializeDictionary(context.Headers.GetAll()),
            ExpirationTime = context.TimeToLive is { } ttl ? now + ttl : null,
            EnqueueTime = context.Delay is { } delay ? now + delay : null,
            InboxMessageId = inboxMessageId,
            InboxConsumerId = inboxConsumerId,
            OutboxId = outboxId,
        };

        if (context is TransportSendContext<T> transport)
        {
            var properties = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
            transport.WritePropertiesTo(properties);
            message.Properties = serializer.SerializeDictionary(properties);
        }

        return message;
    }

    /// <summary>
    /// Npgsql writes only UTC DateTimes to timestamptz; MassTransit's times are UTC but may come
    /// back from headers with an unspecified kind.
    /// </summary>
    public static DateTime Utc(DateTime value) => value.Kind switch
    {
        DateTimeKind.Utc => value,
        DateTimeKind.Local => value.ToUniversalTime(),
        _ => DateTime.SpecifyKind(value, DateTimeKind.Utc),
    };
}
