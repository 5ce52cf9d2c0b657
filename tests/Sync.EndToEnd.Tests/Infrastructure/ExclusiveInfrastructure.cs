namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Tests that stop or restart the shared RabbitMQ or PostgreSQL, or block the broker's publishers:
/// xUnit runs this collection on its own, after every parallel one, so no other test of this
/// assembly sees the fault. Each such class also carries the trait <see cref="Category"/>, so that
/// `./run test` runs them in a `dotnet test` of their own after every other test assembly has
/// finished: the other assemblies use the same servers, and VSTest runs assemblies side by side.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ExclusiveInfrastructure
{
    public const string Name = "exclusive infrastructure";

    /// <summary>The value of the trait "Category" that `--filter Category=ExclusiveInfrastructure` selects.</summary>
    public const string Category = "ExclusiveInfrastructure";
}
