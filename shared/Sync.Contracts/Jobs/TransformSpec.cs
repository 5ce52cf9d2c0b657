namespace Sync.Contracts.Jobs;

/// <summary>The column mapping: each destination column and the source column it is read from, in order.</summary>
public sealed record TransformSpec(IReadOnlyList<ColumnMapping> Columns);

public sealed record ColumnMapping(string Target, string Source);
