namespace Sync.Connectors.Postgres.Cdc;

/// <summary>
/// One change of a source row as a binary COPY tuple in the plan's column order; <see cref="Key"/> is
/// the primary key's field bytes, which identify the row within a batch.
/// </summary>
public abstract record RowChange(byte[] Tuple, string Key)
{
    public abstract byte Operation { get; }
}

/// <summary>A row inserted, or updated to <see cref="RowChange.Tuple"/>: upserted in the destination.</summary>
public sealed record RowUpserted(byte[] Tuple, string Key) : RowChange(Tuple, Key)
{
    public override byte Operation => Contracts.RowOperations.Upsert;
}

/// <summary>A row deleted: its tuple carries the key columns, the others null.</summary>
public sealed record RowDeleted(byte[] Tuple, string Key) : RowChange(Tuple, Key)
{
    public override byte Operation => Contracts.RowOperations.Delete;
}

/// <summary>The changes of one committed source transaction, with the LSN its commit record ends at.</summary>
public sealed record SourceTransaction(IReadOnlyList<RowChange> Changes, NpgsqlTypes.NpgsqlLogSequenceNumber EndLsn, DateTimeOffset CommittedAt);
