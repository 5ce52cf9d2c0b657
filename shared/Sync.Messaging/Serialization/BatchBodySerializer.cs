using System.Buffers.Binary;
using System.Net.Mime;
using System.Runtime.Serialization;
using System.Text.Json;
using MassTransit;
using MassTransit.Serialization;
using Sync.Contracts;

namespace Sync.Messaging.Serialization;

/// <summary>
/// The wire form of a stage batch (<see cref="TransformBatch"/>, <see cref="LoadBatch"/>): the
/// rows travel as the bytes they are, after the message's JSON envelope, instead of base64 inside
/// it (issue 16). With MassTransit's JSON serializer a batch's rows cost a third more bytes on the
/// broker, a base64 encode and a decode, a JSON scan over all of them, and a pooled buffer rounded
/// up to the next power of two in each stage. The envelope (message id, headers, the job, the
/// batch's columns and counts) stays MassTransit's JSON, so everything that reads it is unchanged.
/// <para>
/// The body: <c>SYB1</c>, then little-endian int32 lengths each followed by its bytes: the
/// envelope's UTF-8 JSON (its batch's rows empty), the rows, the operations (-1: none).
/// </para>
/// A body without the <c>SYB1</c> mark under this content type is read as MassTransit's JSON: a
/// message stored by an outbox keeps the JSON it was stored in.
/// </summary>
public sealed class BatchBodySerializer : ISerializerFactory, IMessageSerializer, IMessageDeserializer
{
    public static readonly ContentType BatchContentType = new("application/vnd.sync.batch");

    private const int HeaderBytes = 4;

    // MassTransit's own options (its converters, its envelope types), without the indentation.
    private static readonly JsonSerializerOptions Options = new(SystemTextJsonMessageSerializer.Options) { WriteIndented = false };

    private static ReadOnlySpan<byte> Mark => "SYB1"u8;

    public ContentType ContentType => BatchContentType;

    public IMessageSerializer CreateSerializer() => this;

    public IMessageDeserializer CreateDeserializer() => this;

    public void Probe(ProbeContext context)
    {
        var scope = context.CreateScope("sync-batch");
        scope.Add("contentType", ContentType.MediaType);
    }

    public MessageBody GetMessageBody<T>(SendContext<T> context)
        where T : class =>
        BatchPayload.Split(context.Message) is var (stripped, batch)
            ? new BatchMessageBody(new JsonMessageEnvelope(context, stripped), batch)
            : SystemTextJsonMessageSerializer.Instance.GetMessageBody(context);

    public ConsumeContext Deserialize(ReceiveContext receiveContext) =>
        new BodyConsumeContext(receiveContext, Deserialize(receiveContext.Body, receiveContext.TransportHeaders, receiveContext.InputAddress));

    public SerializerContext Deserialize(MessageBody body, Headers headers, Uri? destinationAddress = null)
    {
        var bytes = body.GetBytes();
        if (!bytes.AsSpan().StartsWith(Mark))
        {
            return SystemTextJsonMessageSerializer.Instance.Deserialize(body, headers, destinationAddress);
        }

        try
        {
            var offset = Mark.Length;
            var json = Section(bytes, ref offset, "envelope") ?? throw new SerializationException("A batch body has no envelope.");
            var rows = Section(bytes, ref offset, "rows") ?? throw new SerializationException("A batch body has no rows.");
            var operations = Section(bytes, ref offset, "operations");
            if (offset != bytes.Length)
            {
                throw new SerializationException($"A batch body has {bytes.Length - offset} bytes after its operations.");
            }

            var envelope = JsonSerializer.Deserialize<MessageEnvelope>(json.Span, Options) ?? throw new SerializationException("A batch body's envelope is null.");
            var messageContext = new EnvelopeMessageContext(envelope, SystemTextJsonMessageSerializer.Instance);
            return new BatchSerializerContext(Options, ContentType, messageContext, envelope, rows.ToArray(), operations?.ToArray(), body);
        }
        catch (SerializationException)
        {
            throw;
        }
        catch (Exception exception) when (exception is JsonException or NotSupportedException or ArgumentException)
        {
            throw new SerializationException("A batch body's envelope could not be read.", exception);
        }
    }

    // Text is what an outbox stores, and it stores JSON.
    public MessageBody GetMessageBody(string text) => new StringMessageBody(text);

    /// <summary>
    /// A batch body with its envelope's JSON replaced by what <paramref name="edit"/> makes of it, the
    /// rows and operations as they were: for a tool that rewrites a delivery (a test forging one).
    /// </summary>
    public static byte[] EditEnvelope(byte[] body, Func<ReadOnlyMemory<byte>, byte[]> edit)
    {
        if (!body.AsSpan().StartsWith(Mark))
        {
            throw new SerializationException("Not a batch body: it does not start with SYB1.");
        }

        var offset = Mark.Length;
        var json = edit(Section(body, ref offset, "envelope") ?? throw new SerializationException("A batch body has no envelope."));
        var rest = body.AsSpan(offset);
        var edited = new byte[Mark.Length + HeaderBytes + json.Length + rest.Length];
        Mark.CopyTo(edited);
        BinaryPrimitives.WriteInt32LittleEndian(edited.AsSpan(Mark.Length), json.Length);
        json.CopyTo(edited, Mark.Length + HeaderBytes);
        rest.CopyTo(edited.AsSpan(Mark.Length + HeaderBytes + json.Length));
        return edited;
    }

    /// <summary>The next section: its int32 length, then that many bytes; null for length -1.</summary>
    private static ReadOnlyMemory<byte>? Section(byte[] bytes, ref int offset, string what)
    {
        if (bytes.Length - offset < HeaderBytes)
        {
            throw new SerializationException($"A batch body ends before its {what}.");
        }

        var length = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset));
        offset += HeaderBytes;
        if (length == -1)
        {
            return null;
        }

        if (length < 0 || length > bytes.Length - offset)
        {
            throw new SerializationException($"A batch body's {what} claim {length} bytes; {bytes.Length - offset} are left.");
        }

        var section = new ReadOnlyMemory<byte>(bytes, offset, length);
        offset += length;
        return section;
    }

    /// <summary>Written once, when the transport first asks for the bytes.</summary>
    private sealed class BatchMessageBody(JsonMessageEnvelope envelope, RecordBatch batch) : MessageBody
    {
        private byte[]? _bytes;

        public long? Length => _bytes?.Length;

        public Stream GetStream() => new MemoryStream(GetBytes(), writable: false);

        public string GetString() => Convert.ToBase64String(GetBytes());

        public byte[] GetBytes() => _bytes ??= Write();

        private byte[] Write()
        {
            byte[] json;
            try
            {
                json = JsonSerializer.SerializeToUtf8Bytes<MessageEnvelope>(envelope, Options);
            }
            catch (Exception exception) when (exception is JsonException or NotSupportedException)
            {
                throw new SerializationException("A batch message's envelope could not be written.", exception);
            }

            var operations = batch.Operations;
            var bytes = GC.AllocateUninitializedArray<byte>(Mark.Length + (3 * HeaderBytes) + json.Length + batch.Rows.Length + (operations?.Length ?? 0));
            var offset = Mark.Length;
            Mark.CopyTo(bytes);
            Put(bytes, ref offset, json);
            Put(bytes, ref offset, batch.Rows);
            Put(bytes, ref offset, operations);
            return bytes;
        }

        private static void Put(byte[] bytes, ref int offset, byte[]? section)
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), section?.Length ?? -1);
            offset += HeaderBytes;
            if (section is not null)
            {
                section.CopyTo(bytes, offset);
                offset += section.Length;
            }
        }
    }

    /// <summary>
    /// MassTransit's JSON serializer context, whose batch messages get their rows back; forwarding
    /// the message (to a queue of its own, say) copies the body as it came.
    /// </summary>
    private sealed class BatchSerializerContext(
        JsonSerializerOptions options, ContentType contentType, MessageContext messageContext, MessageEnvelope envelope, byte[] rows, byte[]? operations, MessageBody body)
        : SystemTextJsonSerializerContext(SystemTextJsonMessageSerializer.Instance, options, contentType, messageContext, envelope.MessageType ?? [], envelope)
    {
        public override bool TryGetMessage<T>(out T? message)
            where T : class
        {
            if (!base.TryGetMessage(out message))
            {
                return false;
            }

            message = BatchPayload.Fill(message, rows, operations);
            return true;
        }

        public override bool TryGetMessage(Type messageType, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out object? message)
        {
            if (!base.TryGetMessage(messageType, out message))
            {
                return false;
            }

            message = BatchPayload.Fill(message, rows, operations);
            return true;
        }

        public override IMessageSerializer GetMessageSerializer() => new CopyBodySerializer(ContentType, body);
    }
}
