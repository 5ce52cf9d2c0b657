using Sync.Contracts;

namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// One change of a source row: its values in the plan's column order, and <see cref="Key"/>, the
/// primary key's field bytes, which identify the row within a batch. <see cref="Shape"/> holds, per
/// plan column, the column as the change carries it (the type of the relation it was decoded under),
/// or null for a value the change does not carry: an unchanged TOASTed value, or a column the
/// source table did not have when the change was written. The destination keeps its value there.
/// </summary>
public abstract record RowChange(byte[]?[] Values, string Key, BatchColumn?[] Shape)
{
    public abstract byte Operation { get; }

    /// <summary>Whether every plan column is carried.</summary>
    public bool IsWhole => Array.TrueForAll(Shape, c => c is not null);
}

/// <summary>A row inserted, or updated to <see cref="RowChange.Values"/>: upserted in the destination.</summary>
public sealed record RowUpserted(byte[]?[] Values, string Key, BatchColumn?[] Shape) : RowChange(Values, Key, Shape)
{
    public override byte Operation => RowOperations.Upsert;
}

/// <summary>A row deleted: its values are the key columns, the others null; it fits a batch of any shape.</summary>
public sealed record RowDeleted(byte[]?[] Values, string Key, BatchColumn?[] Shape) : RowChange(Values, Key, Shape)
{
    public override byte Operation => RowOperations.Delete;
}

/// <summary>A TRUNCATE of the source table: every destination row of the job goes; it travels in a batch of its own.</summary>
public sealed record RowTruncated(byte[]?[] Values, BatchColumn?[] Shape) : RowChange(Values, "\0truncate", Shape)
{
    public override byte Operation => RowOperations.Truncate;
}

/// <summary>
/// The changes of one committed source transaction, with the LSN its commit record ends at, its
/// transaction id, and the chunk marker it wrote, if any (a chunked first copy's high watermark).
/// </summary>
public sealed record SourceTransaction(
    IReadOnlyList<RowChange> Changes, NpgsqlTypes.NpgsqlLogSequenceNumber EndLsn, DateTimeOffset CommittedAt, uint Xid = 0, string? Marker = null);
