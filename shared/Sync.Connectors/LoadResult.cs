namespace Sync.Connectors;

/// <summary>
/// What loading one batch did. <see cref="Rows"/> counts the rows applied (inserted, updated,
/// deleted or skipped); <see cref="Deleted"/> the destination rows a change batch's deletes removed
/// (or soft-deleted); <see cref="Rejected"/> the rows the destination refused. <see cref="Replayed"/>: the
/// batch had been applied before; the counts and rejections are the first application's.
/// <see cref="Superseded"/>: a later run of the job has loaded into the destination, so this batch
/// was refused and nothing was written. <see cref="SchemaChanges"/>: what loading the batch did to the
/// destination table's shape (created, columns added or widened, values or rows discarded), null for nothing.
/// </summary>
public sealed record LoadResult(
    int Rows, int Inserted, int Updated, int Skipped, bool Replayed, IReadOnlyList<RowRejection> Rejected, bool Superseded = false, int Deleted = 0,
    IReadOnlyList<string>? SchemaChanges = null);

/// <summary>A row of a batch the destination refused, by its index in the batch, with the reason.</summary>
public sealed record RowRejection(int RowIndex, string Error);
