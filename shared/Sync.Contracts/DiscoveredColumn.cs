namespace Sync.Contracts;

/// <summary>A column and its type as <c>format_type</c> names it (<c>timestamp with time zone</c>, <c>bigint</c>…).</summary>
public sealed record DiscoveredColumn(string Name, string Type);
