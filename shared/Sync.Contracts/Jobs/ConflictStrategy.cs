namespace Sync.Contracts.Jobs;

/// <summary>What wins when a row already exists in the destination.</summary>
public enum ConflictStrategy
{
    /// <summary>The source row replaces the destination row when its cursor is newer.</summary>
    LatestWins,

    /// <summary>The source row always replaces the destination row.</summary>
    SourceWins,

    /// <summary>An existing destination row is kept.</summary>
    DestinationWins,

    /// <summary>The source row's non-null fields are written over the destination row; a null keeps the destination's value.</summary>
    Merge,
}
