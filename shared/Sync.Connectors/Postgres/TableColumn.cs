namespace Sync.Connectors.Postgres;

/// <summary>A column as the PostgreSQL catalog describes it. <see cref="TypeName"/> has no type modifier.</summary>
public sealed record TableColumn(string Name, uint TypeOid, string TypeName, bool NotNull);
