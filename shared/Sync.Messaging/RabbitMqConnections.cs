using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Sync.Messaging;

/// <summary>
/// The one place that opens a RabbitMQ client connection beside MassTransit's (issue 17): delayed
/// redelivery, error-queue replay and the queue-depth gauge each need a channel of their own, and
/// read the broker's address and credentials from <see cref="RabbitMqOptions"/> here only.
/// </summary>
public sealed class RabbitMqConnections(IOptions<RabbitMqOptions> options)
{
    /// <summary>
    /// Opens a connection named <paramref name="clientName"/> in the broker's connection list.
    /// <paramref name="automaticRecovery"/>: false for an owner that reconnects on demand, as the
    /// client's own recovery would otherwise bring back a second copy after a broker outage.
    /// </summary>
    public Task<IConnection> OpenAsync(string clientName, bool automaticRecovery, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var factory = new ConnectionFactory
        {
            AutomaticRecoveryEnabled = automaticRecovery,
            HostName = settings.Host,
            Port = settings.Port,
            VirtualHost = settings.VirtualHost,
            UserName = settings.Username,
            Password = settings.Password,
            ClientProvidedName = clientName,
            MaxInboundMessageBodySize = RabbitMqOptions.MaxMessageBytes,
        };
        var nodes = settings.ClusterNodes();
        return nodes.Count == 0
            ? factory.CreateConnectionAsync(cancellationToken)
            : factory.CreateConnectionAsync(nodes.Select(node => new AmqpTcpEndpoint(node.Host, node.Port)).ToList(), cancellationToken);
    }
}
