using Microsoft.Extensions.Configuration;

namespace Sync.Connectors.Tests;

/// <summary>The connectors' view of a <see cref="ScratchDatabase"/>: connection names that resolve to it.</summary>
internal static class ScratchCatalog
{
    /// <summary>A connection catalog in which each of <paramref name="names"/> is this database (dispose it before <see cref="ScratchDatabase.DropAsync"/>).</summary>
    public static ConnectionCatalog Catalog(this ScratchDatabase database, params string[] names) =>
        new(new ConfigurationBuilder()
            .AddInMemoryCollection(names.ToDictionary(n => $"Connections:{n}", _ => (string?)database.ConnectionString))
            .Build());
}
