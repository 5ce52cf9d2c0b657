namespace Sync.Connectors.Postgres;

/// <summary>
/// What loading one batch did. <see cref="Replayed"/>: the batch had been applied before; the counts
/// are the first application's. <see cref="Superseded"/>: a later run of the job has loaded into the
/// destination, so this batch was refused and nothing was written.
/// </summary>
public sealed record LoadResult(int Rows, int Inserted, int Updated, int Skipped, bool Replayed, bool Superseded = false);
