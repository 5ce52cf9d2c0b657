using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Sync.Transformer;

namespace Microsoft.Extensions.Hosting;

internal static class HostingExtensions
{
    public static IHostApplicationBuilder AddTransformer(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton<BatchTransforms>();
        builder.AddSyncBus(bus =>
        {
            bus.AddConsumer<TransformBatchConsumer, TransformBatchConsumerDefinition>();
        });
        return builder;
    }
}
