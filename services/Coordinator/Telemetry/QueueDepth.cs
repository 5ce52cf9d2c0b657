using System.Diagnostics.Metrics;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Sync.Messaging;
using Sync.ServiceDefaults;

namespace Sync.Coordinator.Telemetry;

/// <summary>
/// The gauge sync.queue.depth: messages ready in each stage's queue and its error queue
/// (attribute <c>sync.queue</c>), read every <see cref="RefreshInterval"/> with a passive declare
/// on a connection of its own, so an observation never waits for the broker.
/// </summary>
internal sealed partial class QueueDepth : BackgroundService
{
    private static readonly TimeSpan RefreshInterval = TimeSpan.FromSeconds(5);

    // The endpoints of the run's path (kebab-case names from the consumer and saga definitions).
    private static readonly string[] StageQueues = ["extract-batches", "transform-batch", "load-batch", "sync-run-state"];
    private static readonly string[] Queues = [.. StageQueues, .. StageQueues.Select(q => q + "_error")];

    private readonly RabbitMqConnections _connections;
    private readonly ILogger<QueueDepth> _logger;
    private volatile IReadOnlyList<(string Queue, long Messages)> _depths = [];

    public QueueDepth(RabbitMqConnections connections, ILogger<QueueDepth> logger)
    {
        _connections = connections;
        _logger = logger;
        SyncTelemetry.Meter.CreateObservableGauge("sync.queue.depth", Observe, "{message}", "Messages ready in a stage's queue");
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshInterval);
        IConnection? connection = null;
        try
        {
            do
            {
                try
                {
                    connection ??= await _connections.OpenAsync("sync-coordinator-queue-depth", automaticRecovery: true, stoppingToken);
                    _depths = await ReadAsync(connection, stoppingToken);
                }
                catch (Exception exception) when (!stoppingToken.IsCancellationRequested && exception is BrokerUnreachableException or OperationInterruptedException or IOException or AlreadyClosedException)
                {
                    // The gauge keeps its last values; the next tick connects again.
                    LogRefreshFailed(exception);
                    if (connection is not null)
                    {
                        await connection.DisposeAsync();
                        connection = null;
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    private static async Task<IReadOnlyList<(string, long)>> ReadAsync(IConnection connection, CancellationToken cancellationToken)
    {
        var depths = new List<(string, long)>();
        foreach (var queue in Queues)
        {
            // A passive declare of a queue not created yet closes its channel (404): one channel per queue.
            await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
            try
            {
                var declared = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
                depths.Add((queue, declared.MessageCount));
            }
            catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 404)
            {
                // Not declared yet (its service has not started, or nothing faulted): no measurement.
            }
        }

        return depths;
    }

    private IEnumerable<Measurement<long>> Observe() =>
        _depths.Select(d => new Measurement<long>(d.Messages, new KeyValuePair<string, object?>("sync.queue", d.Queue)));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not read the queue depths from RabbitMQ")]
    private partial void LogRefreshFailed(Exception exception);
}
