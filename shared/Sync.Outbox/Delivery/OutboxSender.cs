using System.Diagnostics;
using MassTransit;
using MassTransit.Logging;
using MassTransit.Middleware;
using MassTransit.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Sync.Outbox.Delivery;

/// <summary>
/// Sends outbox rows to the broker one by one, in order, each within <see cref="OutboxOptions.SendTimeout"/>,
/// and stops at the first that fails: what follows it must not overtake it.
/// </summary>
internal sealed partial class OutboxSender(IBus bus, IOptions<OutboxOptions> options, ILogger<OutboxSender> logger)
{
    /// <summary>Returns the sequence number of the last message sent, or null when none was.</summary>
    public async Task<long?> SendAsync(IReadOnlyList<OutboxMessage> messages, CancellationToken cancellationToken)
    {
        long? sent = null;
        foreach (var message in messages)
        {
            message.Deserialize(SystemTextJsonMessageSerializer.Instance);
            if (message.DestinationAddress is not { } destination)
            {
                LogNoDestination(message.SequenceNumber, message.MessageId);
                sent = message.SequenceNumber;
                continue;
            }

            try
            {
                using var activity = StartDeliverActivity(message);
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(options.Value.SendTimeout);
                var endpoint = await bus.GetSendEndpoint(destination);
                await endpoint.Send(new SerializedMessageBody(), new OutboxMessageSendPipe(message, destination), timeout.Token);
            }
            catch (Exception exception) when (!cancellationToken.IsCancellationRequested)
            {
                LogSendFailed(exception, message.SequenceNumber, message.MessageId, destination);
                break;
            }

            sent = message.SequenceNumber;
        }

        return sent;
    }

    /// <summary>
    /// A span in the trace the message was captured in (its stored MT-Activity-Id), current while it
    /// is sent, so the send and what the receiver does continue that trace, not the delivery loop's.
    /// </summary>
    private static Activity? StartDeliverActivity(OutboxMessage message)
    {
        if (message.Headers is null || !ActivityContext.TryParse(
                ((MessageContext)message).Headers.Get<string>(DiagnosticHeaders.ActivityId), null, out var parent))
        {
            return null;
        }

        var caller = Activity.Current;
        Activity.Current = null;
        var activity = OutboxTelemetry.Source.StartActivity("outbox deliver", ActivityKind.Client, parent);
        activity?.SetTag("messaging.message.id", message.MessageId.ToString());
        if (activity is null)
        {
            Activity.Current = caller;
        }

        return activity;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox message {SequenceNumber} ({MessageId}) has no destination address; skipped")]
    private partial void LogNoDestination(long sequenceNumber, Guid messageId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox message {SequenceNumber} ({MessageId}) could not be sent to {Destination}; delivery stops here and is tried again")]
    private partial void LogSendFailed(Exception exception, long sequenceNumber, Guid messageId, Uri destination);
}
