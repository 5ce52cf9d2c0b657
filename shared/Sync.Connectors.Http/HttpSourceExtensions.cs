using Microsoft.Extensions.DependencyInjection;
using Sync.Connectors.Http;

namespace Microsoft.Extensions.Hosting;

public static class HttpSourceExtensions
{
    /// <summary>Registers the http source and its client (base addresses and secrets from <c>HttpConnections</c>).</summary>
    public static IServiceCollection AddHttpSource(this IServiceCollection services)
    {
        services.AddHttpClient(HttpSource.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddSingleton<HttpConnections>();
        services.AddSingleton<HttpSource>();
        return services;
    }
}
