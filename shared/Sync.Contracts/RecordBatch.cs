namespace Sync.Contracts;

/// <summary>
/// A batch of records as it travels between stages: the column schema, and the rows as consecutive
/// PostgreSQL binary COPY tuples (int16 field count, then per field an int32 length, -1 for null,
/// and the value in the type's binary send format). That format is typed, compact and is what both
/// ends of a PostgreSQL sync speak natively, so a batch is copied, never re-encoded, on the way.
/// <see cref="Operations"/>, when present, holds one byte per row: <see cref="RowOperations.Upsert"/> or
/// <see cref="RowOperations.Delete"/> (a delete's row carries its key columns, the others null);
/// null means every row is an upsert, as from a cursor-based extraction.
/// </summary>
public sealed record RecordBatch(IReadOnlyList<BatchColumn> Columns, int RowCount, byte[] Rows, byte[]? Operations = null);

/// <summary>A column of a batch: its name and the PostgreSQL type OID of its binary values.</summary>
public sealed record BatchColumn(string Name, uint TypeOid);
