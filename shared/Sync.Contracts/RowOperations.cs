namespace Sync.Contracts;

/// <summary>The per-row operation markers of <see cref="RecordBatch.Operations"/>.</summary>
public static class RowOperations
{
    /// <summary>Insert the row, or update the row with its key.</summary>
    public const byte Upsert = (byte)'u';

    /// <summary>Delete the row with its key.</summary>
    public const byte Delete = (byte)'d';

    /// <summary>Delete every row of the job (a TRUNCATE of the cdc source); the batch holds this row alone, all fields null.</summary>
    public const byte Truncate = (byte)'t';

    /// <summary>
    /// Insert or update the row, as <see cref="Upsert"/>: a row of a copy of the whole cdc source made
    /// because the stream cannot apply a change (a TRUNCATE of some partitions); the <see cref="Sweep"/>
    /// after the copy keeps it.
    /// </summary>
    public const byte Refresh = (byte)'r';

    /// <summary>
    /// Delete every row of the job that the <see cref="Refresh"/> rows of the extraction before it did not
    /// name (the copy is the whole source); the batch holds this row alone, all fields null.
    /// </summary>
    public const byte Sweep = (byte)'s';

    /// <summary>Whether the row carries values to insert or update (<see cref="Upsert"/> or <see cref="Refresh"/>).</summary>
    public static bool IsUpsert(byte operation) => operation is Upsert or Refresh;
}
