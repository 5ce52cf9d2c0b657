using Microsoft.Extensions.DependencyInjection;
using Sync.Connectors.Http;

namespace Microsoft.Extensions.Hosting;

public static class HttpSourceExtensions
{
    /// <summary>Registers the http source and its client (base addresses and secrets from <c>HttpConnections</c>).</summary>
    public static IServiceCollection AddHttpSource(this IServiceCollection services)
    {
        // Redirects are followed by hand, on the connection's own origin only: an automatic one would
        // carry a custom secret header (an X-Api-Key) to whatever host the answer names.
        services.AddHttpClient(HttpSource.ClientName, client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false });
        services.AddSingleton<HttpConnections>();
        services.AddSingleton<HttpSource>();
        return services;
    }
}
