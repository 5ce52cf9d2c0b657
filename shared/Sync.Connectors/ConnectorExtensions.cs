using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Sync.Connectors;
using Sync.Contracts.Jobs;

namespace Microsoft.Extensions.Hosting;

/// <summary>One line per connector kind a service reads or loads; <see cref="ConnectorRegistry"/> finds them by the job's kind.</summary>
public static class ConnectorExtensions
{
    public static IServiceCollection AddSource<TSource>(this IServiceCollection services, SourceKind kind)
        where TSource : class, ISource =>
        services.AddKind<ISource, TSource>(kind);

    public static IServiceCollection AddChangeSource<TSource>(this IServiceCollection services, SourceKind kind)
        where TSource : class, IChangeSource =>
        services.AddKind<IChangeSource, TSource>(kind);

    public static IServiceCollection AddDestination<TDestination>(this IServiceCollection services, DestinationKind kind)
        where TDestination : class, IDestination =>
        services.AddKind<IDestination, TDestination>(kind);

    private static IServiceCollection AddKind<TService, TImplementation>(this IServiceCollection services, Enum kind)
        where TService : class
        where TImplementation : class, TService
    {
        if (services.Any(d => d.ServiceType == typeof(TService) && Equals(d.ServiceKey, kind)))
        {
            throw new InvalidOperationException($"Two {typeof(TService).Name} connectors are registered for {kind}.");
        }

        // The concrete type stays resolvable on its own (for what only that kind does) and is the same instance.
        services.TryAddSingleton<TImplementation>();
        services.AddKeyedSingleton<TService>(kind, (provider, _) => provider.GetRequiredService<TImplementation>());
        services.TryAddSingleton<ConnectorRegistry>();
        return services;
    }
}
