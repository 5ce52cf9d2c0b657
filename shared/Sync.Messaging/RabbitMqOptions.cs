using System.ComponentModel.DataAnnotations;

namespace Sync.Messaging;

/// <summary>Where the broker is. Bound from the <c>RabbitMq</c> section (environment: <c>RabbitMq__Host</c>, …).</summary>
public sealed class RabbitMqOptions
{
    public const string SectionName = "RabbitMq";

    /// <summary>Broker host name or address. Default 127.0.0.1.</summary>
    [Required]
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>AMQP port. Default 5672.</summary>
    [Range(1, 65535)]
    public int Port { get; set; } = 5672;

    /// <summary>Virtual host. Default "/".</summary>
    [Required]
    public string VirtualHost { get; set; } = "/";

    [Required]
    public string Username { get; set; } = "guest";

    [Required]
    public string Password { get; set; } = "guest";

    /// <summary>Messages each consumer endpoint takes ahead from the broker. Default 16.</summary>
    [Range(1, 1000)]
    public int PrefetchCount { get; set; } = 16;
}
