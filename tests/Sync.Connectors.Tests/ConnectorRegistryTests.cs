using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Sync.Connectors.Code;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>Connectors are found by the job's kind; a kind a service has none for is refused, never served by another kind.</summary>
public sealed class ConnectorRegistryTests
{
    [Fact]
    public void A_registered_kind_resolves_to_the_same_instance_as_its_type()
    {
        using var services = CodeSinkOnly();

        var destination = services.GetRequiredService<ConnectorRegistry>().Destination(DestinationKind.Code);

        Assert.Same(services.GetRequiredService<CodeDestination>(), destination);
    }

    [Fact]
    public void A_kind_with_no_connector_is_refused_naming_it()
    {
        using var services = CodeSinkOnly();
        var registry = services.GetRequiredService<ConnectorRegistry>();

        var destination = Assert.Throws<DestinationSchemaException>(() => registry.Destination(DestinationKind.Postgres));
        var source = Assert.Throws<SourceSchemaException>(() => registry.Source(SourceKind.Http));
        var changes = Assert.Throws<SourceSchemaException>(() => registry.ChangeSource(SourceKind.Postgres));

        Assert.Equal("destination.type: this service loads no postgres destination.", destination.Message);
        Assert.Equal("source.type: this service reads no http source.", source.Message);
        Assert.Equal("source.mode: this service streams no changes from a postgres source.", changes.Message);
    }

    [Fact]
    public void A_kind_registered_twice_is_refused_at_start_up()
    {
        var services = new ServiceCollection().AddDestination<CodeDestination>(DestinationKind.Code);

        Assert.Throws<InvalidOperationException>(() => services.AddDestination<CodeDestination>(DestinationKind.Code));
    }

    private static ServiceProvider CodeSinkOnly() =>
        new ServiceCollection()
            .AddSingleton(new CodeSinks())
            .AddDestination<CodeDestination>(DestinationKind.Code)
            .BuildServiceProvider();
}
