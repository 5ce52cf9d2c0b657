using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Sync.Connectors;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Cdc;
using Sync.Extractor;

namespace Microsoft.Extensions.Hosting;

internal static class HostingExtensions
{
    public static IHostApplicationBuilder AddExtractor(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ConnectionCatalog>();
        builder.Services.AddSingleton<PostgresSource>();
        builder.Services.AddSingleton<PostgresChangeSource>();
        builder.Services.AddOptions<CdcOptions>().BindConfiguration(CdcOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHttpSource();
        builder.AddConnectorResilience();
        builder.AddSyncBus(bus =>
        {
            bus.AddConsumer<ExtractBatchesConsumer, ExtractBatchesConsumerDefinition>();
        });
        return builder;
    }
}
