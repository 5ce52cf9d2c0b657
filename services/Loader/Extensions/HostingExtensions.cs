using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sync.Connectors;
using Sync.Connectors.Code;
using Sync.Connectors.DuckDb;
using Sync.Verification;
using Sync.Connectors.Postgres;
using Sync.Connectors.S3;
using Sync.Contracts.Jobs;
using Sync.Loader;
using Sync.ObjectStorage;

namespace Microsoft.Extensions.Hosting;

internal static class HostingExtensions
{
    public static IHostApplicationBuilder AddLoader(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<LoaderOptions>().BindConfiguration(LoaderOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ConnectionCatalog>();
        builder.Services.AddDestination<PostgresDestination>(DestinationKind.Postgres);
        builder.Services.AddSingleton<PostgresDeleteSweep>();
        builder.Services.AddSingleton<S3Connections>();
        builder.Services.AddDestination<S3Destination>(DestinationKind.S3);
        builder.Services.AddSingleton<S3RunVerifier>();
        builder.Services.AddSingleton<DuckDbConnections>();
        builder.Services.AddDestination<DuckDbDestination>(DestinationKind.DuckDb);
        builder.Services.AddSingleton<DuckDbVerifier>();
        builder.Services.AddCodeSinks(services => services.GetRequiredService<IOptions<LoaderOptions>>().Value.Plugins);
        builder.Services.AddDestination<CodeDestination>(DestinationKind.Code);
        builder.Services.AddSingleton<BatchDestinations>();
        builder.Services.AddHostedService<AppliedBatchPruning>();
        builder.AddConnectorResilience();
        builder.AddSyncBus(bus =>
        {
            bus.AddConsumer<LoadBatchConsumer, LoadBatchConsumerDefinition>();
            bus.AddConsumer<SweepDeletesConsumer, SweepDeletesConsumerDefinition>();
            bus.AddConsumer<WriteRunManifestConsumer, WriteRunManifestConsumerDefinition>();
            bus.AddConsumer<VerifyDuckDbJobConsumer, VerifyDuckDbJobConsumerDefinition>();
            bus.AddConsumer<VerifyS3RunConsumer, VerifyS3RunConsumerDefinition>();
        });
        return builder;
    }
}
