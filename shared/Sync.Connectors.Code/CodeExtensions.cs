using Microsoft.Extensions.DependencyInjection;
using Sync.Connectors.Code;

namespace Microsoft.Extensions.Hosting;

public static class CodeExtensions
{
    /// <summary>Registers the C# sources of the <paramref name="plugins"/> folder (none when it is empty) and the code source that reads them.</summary>
    public static IServiceCollection AddCodeSources(this IServiceCollection services, Func<IServiceProvider, string?> plugins)
    {
        services.AddSingleton(provider => plugins(provider) is { Length: > 0 } folder && !string.IsNullOrWhiteSpace(folder) ? (CodeSources)new CodeSources().AddFolder(folder) : new CodeSources());
        services.AddSingleton<CodeSource>();
        return services;
    }

    /// <summary>Registers the C# sinks of the <paramref name="plugins"/> folder (none when it is empty) and the code destination that feeds them.</summary>
    public static IServiceCollection AddCodeSinks(this IServiceCollection services, Func<IServiceProvider, string?> plugins)
    {
        services.AddSingleton(provider => plugins(provider) is { Length: > 0 } folder && !string.IsNullOrWhiteSpace(folder) ? (CodeSinks)new CodeSinks().AddFolder(folder) : new CodeSinks());
        services.AddSingleton<CodeDestination>();
        return services;
    }
}
