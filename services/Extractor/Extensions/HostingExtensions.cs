using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sync.Connectors;
using Sync.Connectors.Code;
using Sync.Connectors.Files;
using Sync.Connectors.Http;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Cdc;
using Sync.Connectors.Postgres.Verification;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Extractor;
using Sync.ObjectStorage;

namespace Microsoft.Extensions.Hosting;

internal static class HostingExtensions
{
    public static IHostApplicationBuilder AddExtractor(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ConnectionCatalog>();
        builder.Services.AddSource<PostgresSource>(SourceKind.Postgres);
        builder.Services.AddSingleton<PostgresVerifier>();
        builder.Services.AddSingleton<JobSchemaCheck>();
        builder.Services.AddSingleton<CursorValues>();
        builder.Services.AddSingleton<SourceCatalog>();
        builder.Services.AddSingleton<S3Connections>();
        builder.Services.AddOptions<PostgresSourceOptions>().BindConfiguration(PostgresSourceOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddChangeSource<PostgresChangeSource>(SourceKind.Postgres);
        builder.Services.AddOptions<CdcOptions>().BindConfiguration(CdcOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHttpSource();
        builder.Services.AddSource<HttpSource>(SourceKind.Http);
        builder.Services.AddSource<FilesSource>(SourceKind.Files);
        builder.Services.AddOptions<ExtractorOptions>().BindConfiguration(ExtractorOptions.SectionName);
        builder.Services.AddCodeSources(services => services.GetRequiredService<IOptions<ExtractorOptions>>().Value.Plugins);
        builder.Services.AddSource<CodeSource>(SourceKind.Code);
        builder.AddConnectorResilience();
        builder.AddSyncBus(bus =>
        {
            bus.AddConsumer<ExtractBatchesConsumer, ExtractBatchesConsumerDefinition>();
            bus.AddConsumer<RereadRecordsConsumer, RereadRecordsConsumerDefinition>();
            bus.AddConsumer<VerifyJobConsumer, VerifyJobConsumerDefinition>();
            bus.AddConsumer<DropCdcSlotConsumer, DropCdcSlotConsumerDefinition>();
            bus.AddConsumer<CheckJobSchemaConsumer, CheckJobSchemaConsumerDefinition>();
            bus.AddConsumer<CheckConnectionConsumer, CheckConnectionConsumerDefinition>();
            bus.AddConsumer<DiscoverSourceTablesConsumer, DiscoverSourceTablesConsumerDefinition>();
            bus.AddRequestClient<BeginExtraction>();
        });
        return builder;
    }
}
