namespace Sync.Architecture.Tests;

public sealed class DependencyRuleTests
{
    public static TheoryData<string> Services => [.. Projects.Services];

    public static TheoryData<string> Connectors => [.. Projects.Libraries.Where(name => name.StartsWith("Sync.Connectors", StringComparison.Ordinal))];

    public static TheoryData<string> ConnectorKinds => [.. Projects.ConnectorKinds];

    [Fact]
    public void The_four_services_and_the_libraries_are_found()
    {
        Assert.Equal(["Sync.Coordinator", "Sync.Extractor", "Sync.Loader", "Sync.Transformer"], Projects.Services);
        Assert.Contains("Sync.Contracts", Projects.Libraries);
        Assert.Contains("Sync.Connectors", Projects.Libraries);
    }

    [Theory]
    [MemberData(nameof(Services))]
    public void A_service_references_no_other_service(string service)
    {
        var others = Projects.Services.Where(other => other != service).ToHashSet();

        Assert.DoesNotContain(Projects.DependenciesOf(service), others.Contains);
    }

    [Fact]
    public void Contracts_reference_nothing_of_Sync()
    {
        Assert.DoesNotContain(Projects.DependenciesOf("Sync.Contracts"), Projects.IsSync);
    }

    [Theory]
    [MemberData(nameof(Connectors))]
    public void Connectors_reference_no_messaging(string connectors)
    {
        string[] messaging = ["Sync.Messaging", "Sync.Outbox"];

        Assert.DoesNotContain(
            Projects.DependenciesOf(connectors),
            name => messaging.Contains(name) || name.StartsWith("MassTransit", StringComparison.Ordinal));
    }

    [Fact]
    public void The_connector_kinds_are_found()
    {
        Assert.Contains("Sync.Connectors.Postgres", Projects.ConnectorKinds);
        Assert.DoesNotContain(Projects.ConnectorsCore, Projects.ConnectorKinds);
    }

    // A kind builds on the core and on libraries; a service takes the kinds it registers and no more.
    [Theory]
    [MemberData(nameof(ConnectorKinds))]
    public void A_connector_kind_references_the_core_and_no_other_kind(string kind)
    {
        var dependencies = Projects.DependenciesOf(kind);

        Assert.Contains(Projects.ConnectorsCore, dependencies);
        Assert.DoesNotContain(dependencies, name => name != kind && Projects.ConnectorKinds.Contains(name));
        Assert.All(dependencies.Where(Projects.IsSync), name => Assert.Contains(name, Projects.Libraries));
    }

    [Fact]
    public void The_connectors_core_references_no_kind()
    {
        Assert.DoesNotContain(Projects.DependenciesOf(Projects.ConnectorsCore), Projects.ConnectorKinds.Contains);
    }
}
