using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// Destination rules of cdc jobs (their <c>deletes:</c> are read by <see cref="DeletesSection"/>).
/// </summary>
internal static class CdcDestinationRules
{
    /// <summary>latest-wins compares the cursor, which a cdc job may not have.</summary>
    public static bool Conflict(YamlScalar conflict, JobFileErrors errors, SourceDraft? source, ConflictStrategy strategy)
    {
        if (source?.Mode == SyncMode.Cdc && strategy == ConflictStrategy.LatestWins && source.Cursor is "")
        {
            errors.Add(conflict.Mark, conflict.Field, "latest-wins compares the cursor column, and this cdc job has none", "use source-wins (the default for cdc: changes arrive in commit order), or add cursor: under source:");
            return false;
        }

        return true;
    }
}
