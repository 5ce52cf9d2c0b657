using System.Text.RegularExpressions;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Sync.Messaging;
using Sync.Messaging.Redelivery;

namespace Sync.Coordinator.DeadLetters;

/// <summary>
/// Moves messages from <c>{queue}_error</c> back to <c>{queue}</c> on a channel of its own:
/// each is republished through the queue's MassTransit endpoint exchange <c>{queue}</c> (not the
/// default exchange, which the Coordinator's broker user may not write to) with MassTransit's fault headers and Sync's
/// redelivery count removed (it starts over), then acknowledged, so a crash in between duplicates a
/// message rather than losing it — and the stages are idempotent.
/// </summary>
internal sealed partial class ErrorQueueReplay(RabbitMqConnections connections)
{
    /// <summary>Most messages one call moves; call again for more.</summary>
    public const int Limit = 10_000;

    public static bool IsQueueName(string queue) => QueueName().IsMatch(queue);

    /// <returns>How many messages moved; null when there is no such error queue.</returns>
    public async Task<int?> MoveBackAsync(string queue, int limit, CancellationToken cancellationToken)
    {
        await using var connection = await connections.OpenAsync("sync-error-queue-replay", automaticRecovery: true, cancellationToken);
        await using var channel = await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), cancellationToken);
        var errorQueue = queue + "_error";
        try
        {
            await channel.QueueDeclarePassiveAsync(errorQueue, cancellationToken);
            await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            await channel.ExchangeDeclarePassiveAsync(queue, cancellationToken);
        }
        catch (OperationInterruptedException)
        {
            return null;
        }

        var moved = 0;
        while (moved < Math.Min(limit, Limit) && await channel.BasicGetAsync(errorQueue, autoAck: false, cancellationToken) is { } message)
        {
            var original = message.BasicProperties;
            var headers = (original.Headers ?? new Dictionary<string, object?>())
                .Where(h => !h.Key.StartsWith("MT-Fault-", StringComparison.Ordinal) && h.Key != "MT-Reason" && h.Key != DelayQueues.CountHeader)
                .ToDictionary(h => h.Key, h => h.Value);
            var properties = new BasicProperties
            {
                Persistent = true,
                ContentType = original.ContentType,
                MessageId = original.MessageId,
                CorrelationId = original.CorrelationId,
                Headers = headers,
            };
            await channel.BasicPublishAsync(queue, string.Empty, mandatory: true, properties, message.Body, cancellationToken);
            await channel.BasicAckAsync(message.DeliveryTag, multiple: false, cancellationToken);
            moved++;
        }

        return moved;
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,200}$")]
    private static partial Regex QueueName();
}
