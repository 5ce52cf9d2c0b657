using System.Globalization;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Sync.Outbox.Delivery;

namespace Sync.Outbox.Tests.Infrastructure;

/// <summary>
/// One process of a service using the outbox: Sync's bus on the test's virtual host, the test
/// DbContext on the test's database, the RecordOrder consumer and the downstream collector. The
/// bus is started on its own; the outbox's background services run only when asked, so a test
/// can leave committed rows unsent and then hand them to a fresh delivery service.
/// </summary>
public sealed class OutboxHost : IAsyncDisposable
{
    private readonly IHost _host;
    private readonly bool _backgroundServices;

    private OutboxHost(IHost host, bool backgroundServices)
    {
        _host = host;
        _backgroundServices = backgroundServices;
    }

    public IServiceProvider Services => _host.Services;

    public TestLog Log => Services.GetRequiredService<TestLog>();

    public static async Task<OutboxHost> StartAsync(string database, string virtualHost, TestLog log, int retries = 0, bool backgroundServices = false, IDictionary<string, string?>? settings = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["RabbitMq:Host"] = TestInfrastructure.RabbitHost,
            ["RabbitMq:Port"] = TestInfrastructure.RabbitPort.ToString(CultureInfo.InvariantCulture),
            ["RabbitMq:Username"] = TestInfrastructure.RabbitUser,
            ["RabbitMq:Password"] = TestInfrastructure.RabbitPassword,
            ["RabbitMq:VirtualHost"] = virtualHost,
            ["Messaging:JobSigningKey"] = "outbox-tests-job-signing-key-of-32-chars",
            ["Redelivery:Intervals"] = "00:00:01,00:00:01",
            ["Outbox:PollInterval"] = "00:00:00.200",
            ["Outbox:StrandedDeliveryDelay"] = "00:00:01",
            ["Outbox:CleanupInterval"] = "00:00:00.200",
        });
        if (settings is not null)
        {
            builder.Configuration.AddInMemoryCollection(settings);
        }

        builder.Services.AddSingleton(log);
        builder.Services.AddSingleton(new TestSettings(retries));
        builder.Services.AddDbContext<TestDbContext>(options => options.UseNpgsql(TestInfrastructure.ConnectionString(database)));
        builder.AddSyncBus(bus =>
        {
            bus.AddSyncOutbox<TestDbContext>();
            bus.AddConsumer<RecordOrderConsumer, RecordOrderConsumerDefinition>();
            bus.AddConsumer<OrderRecordedCollector, OrderRecordedCollectorDefinition>();
        });

        var host = builder.Build();
        // MassTransit keeps the first host's logger factory process-wide; a later host (the
        // "restarted process") must not log through the disposed one.
        LogContext.ConfigureCurrentLogContext(host.Services.GetRequiredService<ILoggerFactory>());
        var outboxHost = new OutboxHost(host, backgroundServices);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        if (backgroundServices)
        {
            await host.StartAsync(timeout.Token);
        }
        else
        {
            await host.Services.GetRequiredService<IBusControl>().StartAsync(timeout.Token);
        }

        return outboxHost;
    }

    /// <summary>A delivery service of this process, driven by the test one round at a time.</summary>
    internal OutboxDeliveryService<TestDbContext> DeliveryService() => ActivatorUtilities.CreateInstance<OutboxDeliveryService<TestDbContext>>(Services);

    public Task PublishAsync<T>(T message, Guid messageId)
        where T : class =>
        Services.GetRequiredService<IBus>().Publish(message, context => context.MessageId = messageId);

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        if (_backgroundServices)
        {
            await _host.StopAsync(timeout.Token);
        }
        else
        {
            await Services.GetRequiredService<IBusControl>().StopAsync(timeout.Token);
        }

        _host.Dispose();
    }
}
