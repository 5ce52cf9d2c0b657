namespace Sync.Contracts;

/// <summary>One source table: its columns in order and its primary key (empty when it has none).</summary>
public sealed record DiscoveredTable(string Schema, string Name, IReadOnlyList<DiscoveredColumn> Columns, IReadOnlyList<string> PrimaryKey)
{
    public string QualifiedName => $"{Schema}.{Name}";
}
