namespace Sync.Contracts;

/// <summary>
/// What <see cref="DiscoverSourceTables"/> found: the ordinary and partitioned tables of the schemas
/// asked for, by schema and name, or <see cref="Problem"/> when the connection could not be read.
/// </summary>
public sealed record SourceTablesDiscovered(string JobName, string Connection, IReadOnlyList<DiscoveredTable> Tables, string? Problem = null);
