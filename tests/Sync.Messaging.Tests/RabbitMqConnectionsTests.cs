using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Sync.Messaging.Tests;

/// <summary>
/// The one factory for RabbitMQ clients beside MassTransit, against the real broker: it opens on the
/// configured virtual host under the given name, and the broker's refusal of bad credentials reaches
/// the caller rather than a connection to somewhere else.
/// </summary>
public sealed class RabbitMqConnectionsTests : IAsyncLifetime
{
    private readonly string _virtualHost = $"connections-{Guid.NewGuid():N}"[..20];

    public Task InitializeAsync() => TestInfrastructure.CreateVirtualHostAsync(_virtualHost);

    public Task DisposeAsync() => TestInfrastructure.DeleteVirtualHostAsync(_virtualHost);

    [Fact]
    public async Task A_connection_opens_on_the_configured_virtual_host_under_its_client_name()
    {
        var connections = new RabbitMqConnections(Options.Create(Settings(_virtualHost, TestInfrastructure.RabbitPassword)));

        await using var connection = await connections.OpenAsync("connections-test", automaticRecovery: false, CancellationToken.None);
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueDeclareAsync("only-here", durable: false, exclusive: false, autoDelete: false);

        Assert.Equal("connections-test", connection.ClientProvidedName);
        // The queue is in the test's virtual host, not in the default one.
        var elsewhere = new RabbitMqConnections(Options.Create(Settings("/", TestInfrastructure.RabbitPassword)));
        await using var other = await elsewhere.OpenAsync("connections-test-default", automaticRecovery: false, CancellationToken.None);
        await using var otherChannel = await other.CreateChannelAsync();
        await Assert.ThrowsAsync<OperationInterruptedException>(() => otherChannel.QueueDeclarePassiveAsync("only-here"));
    }

    [Fact]
    public async Task Wrong_credentials_are_refused_by_the_broker()
    {
        var connections = new RabbitMqConnections(Options.Create(Settings(_virtualHost, "not-the-password")));

        await Assert.ThrowsAsync<BrokerUnreachableException>(() => connections.OpenAsync("connections-test", automaticRecovery: false, CancellationToken.None));
    }

    private static RabbitMqOptions Settings(string virtualHost, string password) => new()
    {
        Host = TestInfrastructure.RabbitHost,
        Port = TestInfrastructure.RabbitPort,
        Username = TestInfrastructure.RabbitUser,
        Password = password,
        VirtualHost = virtualHost,
    };
}
