namespace Sync.Contracts.Jobs;

/// <summary>
/// A column added to each record from another table of a PostgreSQL connection: the value of
/// <see cref="Column"/> in the row of <see cref="Table"/> whose <see cref="Match"/> equals the
/// record's <see cref="Key"/> (null when there is none). <see cref="Connection"/> is the source's by default.
/// </summary>
public sealed record LookupSpec(string Name, string Connection, string Table, string Key, string Match, string Column);
