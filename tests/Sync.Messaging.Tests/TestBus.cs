using System.Globalization;
using MassTransit;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Sync.Messaging.Tests;

/// <summary>
/// Sync's bus (AddSyncBus) on a virtual host of the test's own on the shared RabbitMQ, with the
/// failing consumer and the failure collector; the virtual host is deleted on dispose.
/// </summary>
public sealed class TestBus : IAsyncDisposable
{
    private readonly IHost _host;

    private TestBus(IHost host, string virtualHost)
    {
        _host = host;
        VirtualHost = virtualHost;
    }

    public IServiceProvider Services => _host.Services;

    public TestLog Log => Services.GetRequiredService<TestLog>();

    public string VirtualHost { get; }

    public static async Task<TestBus> StartAsync(string prefix, string redeliveryIntervals, IDictionary<string, string?>? settings = null)
    {
        var virtualHost = $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 9)];
        await TestInfrastructure.CreateVirtualHostAsync(virtualHost);
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(Settings(virtualHost));
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?> { ["Redelivery:Intervals"] = redeliveryIntervals });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Services.AddSingleton<TestLog>();
        builder.AddSyncBus(bus =>
        {
            bus.AddConsumer<FailingConsumer, FailingConsumerDefinition>();
            bus.AddConsumer<PingFailedCollector>();
            bus.AddConsumer<CargoConsumer>();
            bus.AddConsumer<BatchConsumer, BatchConsumerDefinition>();
        });
        var host = builder.Build();
        // MassTransit keeps the first host's logger factory process-wide.
        LogContext.ConfigureCurrentLogContext(host.Services.GetRequiredService<ILoggerFactory>());
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await host.StartAsync(timeout.Token);
        return new TestBus(host, virtualHost);
    }

    /// <summary>The RabbitMq section pointing at the shared broker's <paramref name="virtualHost"/>.</summary>
    public static Dictionary<string, string?> Settings(string virtualHost) => new()
    {
        ["RabbitMq:Host"] = TestInfrastructure.RabbitHost,
        ["RabbitMq:Port"] = TestInfrastructure.RabbitPort.ToString(CultureInfo.InvariantCulture),
        ["RabbitMq:Username"] = TestInfrastructure.RabbitUser,
        ["RabbitMq:Password"] = TestInfrastructure.RabbitPassword,
        ["RabbitMq:VirtualHost"] = virtualHost,
        ["Messaging:JobSigningKey"] = JobSigningKey,
    };

    /// <summary>The signing key of the test buses, which every service needs to start.</summary>
    public const string JobSigningKey = "test-bus-job-signing-key-of-32-characters";

    /// <summary>
    /// Waits until <paramref name="queue"/> holds <paramref name="expected"/> messages (asked of the queue
    /// itself, through RabbitMqConnections). A queue not there yet holds none: MassTransit declares an
    /// error queue when it first moves a message to it, which may follow the failure event the test saw.
    /// </summary>
    public async Task<uint> WaitForErrorQueueDepthAsync(string queue, uint expected, TimeSpan timeout)
    {
        var connections = Services.GetRequiredService<RabbitMqConnections>();
        await using var connection = await connections.OpenAsync("stage-retry-tests", automaticRecovery: false, CancellationToken.None);
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            uint depth = 0;
            // A passive declare of a missing queue closes its channel: one channel per look.
            await using (var channel = await connection.CreateChannelAsync())
            {
                try
                {
                    depth = (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
                }
                catch (RabbitMQ.Client.Exceptions.OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 404)
                {
                }
            }

            if (depth >= expected || DateTime.UtcNow > deadline)
            {
                return depth;
            }

            await Task.Delay(200);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _host.StopAsync(timeout.Token);
        _host.Dispose();
        await TestInfrastructure.DeleteVirtualHostAsync(VirtualHost);
    }
}
