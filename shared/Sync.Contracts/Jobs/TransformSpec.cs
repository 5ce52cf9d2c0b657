namespace Sync.Contracts.Jobs;

/// <summary>
/// The column mapping: each destination column and the source column it is read from, in order.
/// <see cref="Filter"/> keeps only the records for which it is true; <see cref="Lookups"/> add
/// columns read from another table by key; <see cref="Code"/> names a C# transform (Sync.Sdk) run
/// on each mapped record.
/// </summary>
public sealed record TransformSpec(
    IReadOnlyList<ColumnMapping> Columns,
    string? Filter = null,
    IReadOnlyList<LookupSpec>? Lookups = null,
    string? Code = null);

/// <summary>
/// One destination column read from one source column; <see cref="Cast"/>, when set, names the
/// PostgreSQL type (integer, numeric, date…) the value is converted to on the way, record by record.
/// A computed column has an <see cref="Expression"/> (Sync.Expressions) and an empty <see cref="Source"/>.
/// </summary>
public sealed record ColumnMapping(string Target, string Source, string? Cast = null, string? Expression = null);
