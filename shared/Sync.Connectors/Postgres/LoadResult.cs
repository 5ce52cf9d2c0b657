namespace Sync.Connectors.Postgres;

/// <summary>What loading one batch did. <see cref="Replayed"/>: the batch had been applied before; the counts are the first application's.</summary>
public sealed record LoadResult(int Rows, int Inserted, int Updated, int Skipped, bool Replayed);
