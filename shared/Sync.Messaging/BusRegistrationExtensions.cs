using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sync.Messaging;
using Sync.Messaging.Redelivery;
using Sync.Messaging.Signing;

namespace Microsoft.Extensions.Hosting;

public static class BusRegistrationExtensions
{
    /// <summary>
    /// Adds MassTransit on RabbitMQ with Sync's conventions: kebab-case queue names, endpoints from
    /// the consumer definitions that <paramref name="configure"/> registers, publisher confirms.
    /// </summary>
    public static IHostApplicationBuilder AddSyncBus(this IHostApplicationBuilder builder, Action<IBusRegistrationConfigurator> configure)
    {
        builder.Services.AddOptions<RabbitMqOptions>()
            .BindConfiguration(RabbitMqOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();

        builder.Services.AddOptions<DelayedRedeliveryOptions>()
            .BindConfiguration(DelayedRedeliveryOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        // Secure by default (issue 20, item 3): no key, no start; a stage never acts on an unsigned job.
        builder.Services.AddOptions<JobSigningOptions>()
            .BindConfiguration(JobSigningOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddSingleton<JobSigner>();
        builder.Services.AddSingleton<RabbitMqConnections>();
        builder.Services.AddSingleton<DelayQueues>();

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            // MassTransit 8.4+ reports bus usage to usage-tracking.masstransit.io by default; a sync
            // service next to production data does not phone home (and these hosts have no route out).
            bus.DisableUsageTelemetry();
            configure(bus);
            bus.AddConfigureEndpointsCallback((context, _, endpoint) =>
            {
                if (endpoint is IRabbitMqReceiveEndpointConfigurator queue
                    && context.GetRequiredService<IOptions<RabbitMqOptions>>().Value.QueueType == StageQueueType.Quorum)
                {
                    queue.SetQuorumQueue();
                }
            });
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                rabbit.Host(options.Host, (ushort)options.Port, options.VirtualHost, host =>
                {
                    host.Username(options.Username);
                    host.Password(options.Password);
                    host.PublisherConfirmation = true;
                    host.MaxMessageSize(RabbitMqOptions.MaxMessageBytes);
                    var nodes = options.ClusterNodes();
                    if (nodes.Count > 0)
                    {
                        host.UseCluster(cluster =>
                        {
                            foreach (var (nodeHost, nodePort) in nodes)
                            {
                                cluster.Node($"{nodeHost}:{nodePort}");
                            }
                        });
                    }
                });
                rabbit.PrefetchCount = options.PrefetchCount;
                rabbit.UseBatchBodies();
                rabbit.UseConsumeFilter(typeof(RunContextFilter<>), context);
                rabbit.UseConsumeFilter(typeof(JobSignatureFilter<>), context);
                rabbit.UseSendFilter(typeof(JobSigningFilter<>), context);
                rabbit.UsePublishFilter(typeof(JobSigningFilter<>), context);
                rabbit.UseSendFilter(typeof(RunHeadersFilter<>), context);
                rabbit.UsePublishFilter(typeof(RunHeadersFilter<>), context);
                rabbit.ConfigureEndpoints(context);
            });
        });

        // StopTimeout is not only for shutdown: when a connection drops, each receive endpoint
        // stops its consumer and waits up to StopTimeout for the deliveries in flight before it
        // reconnects. Those deliveries cannot finish without the broker (their publishes and acks
        // need it), so with the former 30 s every outage cost at least 30 s without consuming
        // (BrokerOutageTests logs: "Consumer stop canceled" 30 s after the channel shutdown).
        // ConsumerStopTimeout cancels them earlier; the broker redelivers them.
        builder.Services.AddOptions<BatchMemoryOptions>().BindConfiguration(BatchMemoryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<BatchMemory>();
        builder.Services.AddOptions<MassTransitHostOptions>().Configure<IOptions<RabbitMqOptions>>((options, rabbit) =>
        {
            options.WaitUntilStarted = true;
            options.StopTimeout = rabbit.Value.StopTimeout;
            options.ConsumerStopTimeout = rabbit.Value.ConsumerStopTimeout;
        });
        return builder;
    }
}
