using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sync.Connectors;
using Sync.Transformer;

namespace Microsoft.Extensions.Hosting;

internal static class HostingExtensions
{
    public static IHostApplicationBuilder AddTransformer(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<TransformerOptions>().BindConfiguration(TransformerOptions.SectionName);
        builder.Services.AddSingleton<ConnectionCatalog>();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(services =>
        {
            var plugins = services.GetRequiredService<IOptions<TransformerOptions>>().Value.Plugins;
            return string.IsNullOrWhiteSpace(plugins) ? new CodeTransforms() : (CodeTransforms)new CodeTransforms().AddFolder(plugins);
        });
        builder.Services.AddSingleton<BatchTransforms>();
        builder.AddSyncBus(bus =>
        {
            bus.AddConsumer<TransformBatchConsumer, TransformBatchConsumerDefinition>();
        });
        return builder;
    }
}
