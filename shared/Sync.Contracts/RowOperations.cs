namespace Sync.Contracts;

/// <summary>The per-row operation markers of <see cref="RecordBatch.Operations"/>.</summary>
public static class RowOperations
{
    /// <summary>Insert the row, or update the row with its key.</summary>
    public const byte Upsert = (byte)'u';

    /// <summary>Delete the row with its key.</summary>
    public const byte Delete = (byte)'d';
}
