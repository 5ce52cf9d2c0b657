namespace Sync.Connectors.Postgres;

/// <summary>
/// A column as the PostgreSQL catalog describes it. <see cref="TypeName"/> has no type modifier;
/// <see cref="Generated"/>: a generated column, which nothing writes and pgoutput does not send.
/// <see cref="DomainBase"/>: for a column of a domain, the type under it (under every domain, when
/// one is over another); 0 for any other column.
/// </summary>
public sealed record TableColumn(string Name, uint TypeOid, string TypeName, bool NotNull, bool Generated = false, uint DomainBase = 0);
