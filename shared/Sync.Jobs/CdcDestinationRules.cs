using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// <c>destination.deletes</c> (<c>delete</c>, the default, or <c>soft-delete</c>) and
/// <c>destination.soft_delete_column</c>: what a row deleted in a cdc source does to the destination.
/// </summary>
internal static class CdcDestinationRules
{
    public static readonly IReadOnlyDictionary<string, DeleteMode> DeleteModes = new Dictionary<string, DeleteMode>(StringComparer.Ordinal)
    {
        ["delete"] = DeleteMode.Delete,
        ["soft-delete"] = DeleteMode.SoftDelete,
    };

    /// <summary>The mode and soft-delete column, or null when they have errors (reported).</summary>
    public static (DeleteMode Mode, string? Column)? Read(YamlNodeReader destination, JobFileErrors errors, bool cdc)
    {
        var mode = DeleteMode.Delete;
        if (destination.Scalar("deletes", "soft-delete") is { } d)
        {
            if (!FieldRules.Choice(d, errors, DeleteModes, out mode))
            {
                return null;
            }

            if (!cdc)
            {
                errors.Add(d.Mark, d.Field, "only a cdc source reports deleted rows", "add mode: cdc under source:, or remove deletes");
                return null;
            }
        }

        var column = destination.Scalar("soft_delete_column", "deleted_at");
        if (mode == DeleteMode.SoftDelete && column is null)
        {
            errors.Add(destination.KeyMark("deletes"), destination.FieldOf("deletes"), "soft-delete needs the column to stamp", "add soft_delete_column: deleted_at (a timestamptz column of the destination table)");
            return null;
        }

        if (column is { } c)
        {
            if (mode != DeleteMode.SoftDelete)
            {
                errors.Add(c.Mark, c.Field, "is used only with deletes: soft-delete", "add deletes: soft-delete, or remove soft_delete_column");
                return null;
            }

            return FieldRules.Identifier(c, errors, "a column name like deleted_at") is { } name ? (mode, name) : null;
        }

        return (mode, null);
    }

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
