namespace Sync.Contracts.Jobs;

/// <summary>What a cdc job does when its source table is truncated (<c>destination.truncate</c>).</summary>
public enum TruncateMode
{
    /// <summary>Every destination row of the job is deleted (or soft-deleted), in stream order.</summary>
    Apply,

    /// <summary>The destination keeps its rows; the job goes on with the changes after the truncate.</summary>
    Ignore,
}
