namespace Sync.Connectors.Postgres;

/// <summary>
/// What loading one batch did. <see cref="Rows"/> counts the rows applied (inserted, updated or
/// skipped); <see cref="Rejected"/> the rows the destination refused. <see cref="Replayed"/>: the
/// batch had been applied before; the counts and rejections are the first application's.
/// <see cref="Superseded"/>: a later run of the job has loaded into the destination, so this batch
/// was refused and nothing was written.
/// </summary>
public sealed record LoadResult(int Rows, int Inserted, int Updated, int Skipped, bool Replayed, IReadOnlyList<RowRejection> Rejected, bool Superseded = false);

/// <summary>A row of a batch the destination refused, by its index in the batch, with the reason.</summary>
public sealed record RowRejection(int RowIndex, string Error);
