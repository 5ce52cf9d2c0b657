using System.Collections.Concurrent;
using MassTransit;
using RabbitMQ.Client;

namespace Sync.Messaging.Redelivery;

/// <summary>
/// Delayed redelivery without the delayed-message-exchange plugin (RabbitMQ 3.10 here has none):
/// a copy of the message goes through the exchange <c>{queue}-redeliver-{ms}</c> to the durable
/// queue of that name, whose per-queue TTL dead-letters it back to MassTransit's endpoint exchange
/// <c>{queue}</c> once the wait is over. Not through the default exchange: writing to it reaches
/// every queue of the virtual host, which no service's broker user may (deploy/rabbitmq/permissions.tsv).
/// </summary>
public sealed class DelayQueues(RabbitMqConnections connections) : IAsyncDisposable
{
    public const string CountHeader = "Sync-Redelivery-Count";

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConcurrentDictionary<string, bool> _declared = new(StringComparer.Ordinal);
    private IConnection? _connection;
    private IChannel? _channel;

    /// <summary>Sends the received message back to its queue after <paramref name="delay"/>, as redelivery number <paramref name="count"/>.</summary>
    public async Task RedeliverAsync(ReceiveContext received, TimeSpan delay, int count, CancellationToken cancellationToken)
    {
        var queue = received.InputAddress.AbsolutePath.Trim('/').Split('/')[^1];
        // Not the former {queue}-delay-{ms}: those dead-letter through the default exchange, and a
        // queue's arguments cannot change.
        var delayQueue = $"{queue}-redeliver-{(long)delay.TotalMilliseconds}";
        var original = received.TryGetPayload<RabbitMqBasicConsumeContext>(out var rabbit) ? rabbit.Properties : null;

        await _gate.WaitAsync(cancellationToken);
        try
        {
            var channel = await GetChannelAsync(cancellationToken);
            if (!_declared.ContainsKey(delayQueue))
            {
                await channel.ExchangeDeclareAsync(delayQueue, ExchangeType.Fanout, durable: true, autoDelete: false, cancellationToken: cancellationToken);
                await channel.QueueDeclareAsync(delayQueue, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?>
                {
                    ["x-message-ttl"] = (long)delay.TotalMilliseconds,
                    ["x-dead-letter-exchange"] = queue,
                }, cancellationToken: cancellationToken);
                await channel.QueueBindAsync(delayQueue, delayQueue, string.Empty, cancellationToken: cancellationToken);
                _declared.TryAdd(delayQueue, true);
            }

            var properties = new BasicProperties
            {
                Persistent = true,
                ContentType = original?.ContentType ?? received.ContentType?.MediaType,
                MessageId = original?.MessageId,
                CorrelationId = original?.CorrelationId,
                Headers = new Dictionary<string, object?>(original?.Headers ?? new Dictionary<string, object?>()) { [CountHeader] = count },
            };
            await channel.BasicPublishAsync(delayQueue, string.Empty, mandatory: true, properties, received.Body.GetBytes(), cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task<IChannel> GetChannelAsync(CancellationToken cancellationToken)
    {
        if (_channel is { IsOpen: true })
        {
            return _channel;
        }

        if (_channel is not null)
        {
            await _channel.DisposeAsync();
            _channel = null;
        }

        if (_connection is not { IsOpen: true })
        {
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }

            // Reconnected on demand by the next redelivery.
            _connection = await connections.OpenAsync("sync-redelivery", automaticRecovery: false, cancellationToken);
        }

        _declared.Clear();
        _channel = await _connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
        return _channel;
    }

    public async ValueTask DisposeAsync()
    {
        if (_channel is not null)
        {
            await _channel.DisposeAsync();
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        _gate.Dispose();
    }
}
