using MassTransit;
using MassTransit.Metadata;
using MassTransit.Middleware;
using MassTransit.Serialization;

namespace Sync.Outbox;

/// <summary>
/// A captured send or publish, waiting in the database for delivery. Owned either by an inbox row
/// (<see cref="InboxMessageId"/>, <see cref="InboxConsumerId"/>: the consumer outbox) or by an
/// <see cref="OutboxState"/> (<see cref="OutboxId"/>: the bus outbox).
/// </summary>
public sealed class OutboxMessage : OutboxMessageContext
{
    private static readonly IReadOnlyDictionary<string, object> NoProperties = new Dictionary<string, object>(StringComparer.OrdinalIgnoreCase);
    private Headers? _headers;
    private IReadOnlyDictionary<string, object>? _properties;

    /// <summary>Gives the delivery order; an identity column, so rows commit in the order they were written.</summary>
    public long SequenceNumber { get; set; }

    public Guid MessageId { get; set; }

    public Guid? ConversationId { get; set; }

    public Guid? CorrelationId { get; set; }

    public Guid? InitiatorId { get; set; }

    public Guid? RequestId { get; set; }

    public Uri? SourceAddress { get; set; }

    public Uri? DestinationAddress { get; set; }

    public Uri? ResponseAddress { get; set; }

    public Uri? FaultAddress { get; set; }

    public string ContentType { get; set; } = null!;

    public string MessageType { get; set; } = null!;

    public string Body { get; set; } = null!;

    /// <summary>The send headers, as JSON.</summary>
    public string? Headers { get; set; }

    /// <summary>Transport properties (routing key and the like), as JSON.</summary>
    public string? Properties { get; set; }

    public DateTime SentTime { get; set; }

    /// <summary>
    /// Stored but not honoured: Sync keeps delays in the broker (TTL + dead-letter delay queues,
    /// see Sync.Messaging/Redelivery), and none of its outbox messages asks for one.
    /// </summary>
    public DateTime? EnqueueTime { get; set; }

    public DateTime? ExpirationTime { get; set; }

    public Guid? InboxMessageId { get; set; }

    public Guid? InboxConsumerId { get; set; }

    public Guid? OutboxId { get; set; }

    Guid? MessageContext.MessageId => MessageId;

    DateTime? MessageContext.SentTime => SentTime;

    Headers MessageContext.Headers => _headers ?? EmptyHeaders.Instance;

    HostInfo MessageContext.Host => HostMetadataCache.Host;

    IReadOnlyDictionary<string, object> OutboxMessageContext.Properties => _properties ?? NoProperties;

    /// <summary>Reads <see cref="Headers"/> and <see cref="Properties"/> back before the message is sent.</summary>
    internal void Deserialize(IObjectDeserializer deserializer)
    {
        var headers = deserializer.DeserializeDictionary<object?>(Headers);
        _headers = headers is null ? EmptyHeaders.Instance : new DictionarySendHeaders(headers);
        _properties = deserializer.DeserializeDictionary<object>(Properties) ?? NoProperties;
    }
}
