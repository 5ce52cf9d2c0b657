using System.ComponentModel.DataAnnotations;

namespace Sync.Messaging;

/// <summary>Where the broker is. Bound from the <c>RabbitMq</c> section (environment: <c>RabbitMq__Host</c>, …).</summary>
public sealed class RabbitMqOptions : IValidatableObject
{
    public const string SectionName = "RabbitMq";

    /// <summary>
    /// The largest message body a service accepts from the broker: RabbitMQ's own default
    /// <c>max_message_size</c> (128 MiB), which every message the broker delivers already passed. The
    /// RabbitMQ client's default, 64 MiB, is smaller than a batch of <c>batch_bytes</c>' largest
    /// (64 MiB of rows, and about 85 MiB as base64 in JSON when replayed): over it the client closes its connection,
    /// the broker delivers the message again on the next, and the stage stops consuming its queue for ever.
    /// </summary>
    public const uint MaxMessageBytes = 128 * 1024 * 1024;

    /// <summary>Broker host name or address. Default 127.0.0.1.</summary>
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>AMQP port. Default 5672.</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 5672;

    /// <summary>
    /// The nodes of a RabbitMQ cluster, comma-separated <c>host:port</c> (port optional, default
    /// <see cref="Port"/>), e.g. <c>rabbit-1:5672,rabbit-2:5672,rabbit-3:5672</c> (issue 19). Set, a
    /// service connects to any node that answers and to another when its node goes down; <see cref="Host"/>
    /// is then only the name of the broker in logs. Default none: <see cref="Host"/> and <see cref="Port"/>.
    /// </summary>
    public string? ClusterMembers { get; set; }

    /// <summary>The cluster's nodes from <see cref="ClusterMembers"/> as (host, port); empty when it is not set.</summary>
    public IReadOnlyList<(string Host, int Port)> ClusterNodes() =>
        (ClusterMembers ?? string.Empty).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(member => member.LastIndexOf(':') is var colon and > 0
                && int.TryParse(member[(colon + 1)..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port)
                    ? (member[..colon], port)
                    : (member, Port))
            .ToList();

    /// <summary>Virtual host. Default "/".</summary>
    [Required]
    public string VirtualHost { get; set; } = "/";

    [Required]
    public string Username { get; set; } = "guest";

    [Required]
    public string Password { get; set; } = "guest";

    /// <summary>
    /// The type of the stage queues (every consumer endpoint's queue): <see cref="StageQueueType.Classic"/>
    /// (default) or <see cref="StageQueueType.Quorum"/>, replicated over a cluster's nodes so a stage
    /// queue outlives the loss of one (issue 19). A queue's type is fixed when it is made: switching
    /// an installation means deleting its stage queues while they are empty.
    /// </summary>
    public StageQueueType QueueType { get; set; } = StageQueueType.Classic;

    /// <summary>Messages each consumer endpoint takes ahead from the broker. Default 16.</summary>
    [Range(1, 1000)]
    public int PrefetchCount { get; set; } = 16;

    /// <summary>
    /// How long a consumer whose connection dropped (or whose service stops) may finish the messages
    /// it holds before they are cancelled; their acknowledgements are lost with the connection
    /// anyway, so the broker delivers them again. Default 00:00:05.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ConsumerStopTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Longest wait for a receive endpoint to stop, after which it starts again on a new
    /// connection (or the service exits). At least <see cref="ConsumerStopTimeout"/>. Default 00:00:10.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan StopTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (host, port) in ClusterNodes())
        {
            if (host.Length == 0 || port is < 1 or > 65535)
            {
                yield return new ValidationResult(
                    $"RabbitMq:ClusterMembers has \"{host}:{port}\", which is no host:port; give the nodes as host:port, comma-separated.",
                    [nameof(ClusterMembers)]);
            }
        }

        if (StopTimeout < ConsumerStopTimeout)
        {
            yield return new ValidationResult(
                $"RabbitMq:StopTimeout ({StopTimeout}) is shorter than RabbitMq:ConsumerStopTimeout ({ConsumerStopTimeout}); make it at least as long.",
                [nameof(StopTimeout)]);
        }
    }
}

/// <summary>The RabbitMQ queue type of the stage queues.</summary>
public enum StageQueueType
{
    Classic,
    Quorum,
}
