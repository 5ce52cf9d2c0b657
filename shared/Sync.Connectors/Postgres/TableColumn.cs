namespace Sync.Connectors.Postgres;

/// <summary>
/// A column as the PostgreSQL catalog describes it. <see cref="TypeName"/> has no type modifier;
/// <see cref="Generated"/>: a generated column, which nothing writes and pgoutput does not send.
/// </summary>
public sealed record TableColumn(string Name, uint TypeOid, string TypeName, bool NotNull, bool Generated = false);
