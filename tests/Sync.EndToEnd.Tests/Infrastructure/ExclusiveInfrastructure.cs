namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>
/// Tests that stop or restart the shared RabbitMQ or PostgreSQL, or block the broker's publishers:
/// xUnit runs this collection on its own, after every parallel one, so no other test sees the fault.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ExclusiveInfrastructure
{
    public const string Name = "exclusive infrastructure";
}
