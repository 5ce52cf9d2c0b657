using Microsoft.Extensions.DependencyInjection;
using Sync.Contracts.Jobs;

namespace Sync.Connectors;

/// <summary>
/// The connector registered for each kind (<c>AddSource</c>, <c>AddChangeSource</c>, <c>AddDestination</c>).
/// A kind this service has none for is refused as a job that does not fit, never read or loaded by another kind.
/// </summary>
public sealed class ConnectorRegistry(IServiceProvider services)
{
    public ISource Source(SourceKind kind) =>
        services.GetKeyedService<ISource>(kind) ?? throw new SourceSchemaException($"source.type: this service reads no {Word(kind)} source.");

    public IChangeSource ChangeSource(SourceKind kind) =>
        services.GetKeyedService<IChangeSource>(kind) ?? throw new SourceSchemaException($"source.mode: this service streams no changes from a {Word(kind)} source.");

    public IDestination Destination(DestinationKind kind) =>
        services.GetKeyedService<IDestination>(kind) ?? throw new DestinationSchemaException($"destination.type: this service loads no {Word(kind)} destination.");

    // The job file's word: every kind's is its name in lower case ("duckdb", "s3").
    private static string Word(Enum kind) => kind.ToString().ToLowerInvariant();
}
