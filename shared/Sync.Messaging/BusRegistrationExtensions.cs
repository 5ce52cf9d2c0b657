using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sync.Messaging;
using Sync.Messaging.Redelivery;

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
        builder.Services.AddSingleton<DelayQueues>();

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetKebabCaseEndpointNameFormatter();
            configure(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                var options = context.GetRequiredService<IOptions<RabbitMqOptions>>().Value;
                rabbit.Host(options.Host, (ushort)options.Port, options.VirtualHost, host =>
                {
                    host.Username(options.Username);
                    host.Password(options.Password);
                    host.PublisherConfirmation = true;
                });
                rabbit.PrefetchCount = options.PrefetchCount;
                rabbit.ConfigureEndpoints(context);
            });
        });

        builder.Services.Configure<MassTransitHostOptions>(options =>
        {
            options.WaitUntilStarted = true;
            options.StopTimeout = TimeSpan.FromSeconds(30);
        });
        return builder;
    }
}
