namespace Sync.Contracts.Jobs;

/// <summary>The column mapping: each destination column and the source column it is read from, in order.</summary>
public sealed record TransformSpec(IReadOnlyList<ColumnMapping> Columns);

/// <summary>
/// One destination column read from one source column; <see cref="Cast"/>, when set, names the
/// PostgreSQL type (integer, numeric, date…) the value is converted to on the way, record by record.
/// </summary>
public sealed record ColumnMapping(string Target, string Source, string? Cast = null);
