namespace Sync.Contracts;

/// <summary>
/// Asks the Extractor for the tables of <see cref="Schemas"/> in a source connection, with their
/// columns and primary keys, and to respond with <see cref="SourceTablesDiscovered"/>: a job's
/// <c>streams:</c> are resolved against the live catalog, and the Coordinator holds no connection (issue 18).
/// <see cref="JobName"/> is the streams job being resolved, or empty for <c>syncctl discover</c>.
/// </summary>
public sealed record DiscoverSourceTables(string JobName, string Connection, IReadOnlyList<string> Schemas);
