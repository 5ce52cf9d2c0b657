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
}
