using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sync.Connectors.Resilience;

namespace Microsoft.Extensions.Hosting;

public static class ConnectorResilienceExtensions
{
    /// <summary>Adds the per-connection resilience pipelines the PostgreSQL source and destination call through (<see cref="ConnectorResilienceOptions"/>).</summary>
    public static IHostApplicationBuilder AddConnectorResilience(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ConnectorResilienceOptions>()
            .BindConfiguration(ConnectorResilienceOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.TryAddSingleton<ConnectorResilience>();
        return builder;
    }
}
