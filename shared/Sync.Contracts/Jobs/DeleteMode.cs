namespace Sync.Contracts.Jobs;

/// <summary>What a row deleted in the source does to the destination (cdc jobs).</summary>
public enum DeleteMode
{
    /// <summary>The destination row with its key is deleted.</summary>
    Delete,

    /// <summary>The destination row is kept and its soft-delete column set to now().</summary>
    SoftDelete,
}
