using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// <c>destination.deletes</c>, <c>destination.soft_delete_column</c> and <c>destination.allow_empty</c>:
/// what a full refresh does with destination rows the source no longer has.
/// </summary>
internal static class DeletesSection
{
    public static readonly string[] Keys = ["deletes", "soft_delete_column", "allow_empty"];

    public static readonly IReadOnlyDictionary<string, DeleteMode> Modes = new Dictionary<string, DeleteMode>(StringComparer.Ordinal)
    {
        ["keep"] = DeleteMode.Keep,
        ["delete"] = DeleteMode.Delete,
        ["soft-delete"] = DeleteMode.SoftDelete,
    };

    private static readonly IReadOnlyDictionary<string, bool> Booleans = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["true"] = true,
        ["false"] = false,
    };

    /// <summary>The settings, or null when one is invalid (reported).</summary>
    /// <param name="cdc">The source follows a change stream (<c>source.mode: cdc</c>): its deletes are
    /// applied as they come, <c>delete</c> by default.</param>
    public static (DeleteMode Deletes, string? SoftDeleteColumn, bool AllowEmpty)? Read(YamlNodeReader destination, JobFileErrors errors, SyncMode mode, bool cdc = false)
    {
        var valid = true;
        var deletes = cdc ? DeleteMode.Delete : DeleteMode.Keep;
        var deletesValue = destination.Scalar("deletes", "delete");
        if (deletesValue is { } d)
        {
            valid &= FieldRules.Choice(d, errors, Modes, out deletes);
            if (valid && cdc && deletes == DeleteMode.Keep)
            {
                errors.Add(d.Mark, d.Field, "a cdc job applies the deletes it streams: keep is for full refreshes", "use delete or soft-delete (soft-delete keeps the row and stamps soft_delete_column)");
                valid = false;
            }
            else if (valid && deletes != DeleteMode.Keep && mode == SyncMode.Incremental && !cdc)
            {
                // An incremental run reads only what changed, so it cannot tell a deleted row from an unchanged one.
                errors.Add(d.Mark, d.Field, "needs mode: full_refresh or a cdc source: an incremental run cannot see which rows the source deleted", "add mode: full_refresh at the top of the file, or mode: cdc under source:, or remove deletes:");
                valid = false;
            }
        }

        string? column = null;
        if (destination.Scalar("soft_delete_column", "deleted_at") is { } c)
        {
            column = FieldRules.Identifier(c, errors, "a column name like deleted_at");
            valid &= column is not null;
            if (column is not null && deletes != DeleteMode.SoftDelete)
            {
                errors.Add(c.Mark, c.Field, "is only used with deletes: soft-delete", "add deletes: soft-delete, or remove soft_delete_column:");
                valid = false;
            }
        }
        else if (deletes == DeleteMode.SoftDelete && deletesValue is { } sd)
        {
            errors.Add(sd.Mark, destination.FieldOf("soft_delete_column"), "is required with deletes: soft-delete", "add soft_delete_column: deleted_at (a timestamptz column of the destination table)");
            valid = false;
        }

        var allowEmpty = false;
        if (destination.Scalar("allow_empty", "true") is { } a)
        {
            valid &= FieldRules.Choice(a, errors, Booleans, out allowEmpty);
            if (cdc)
            {
                errors.Add(a.Mark, a.Field, "is only used by full refreshes (a refresh that reads no row)", "remove allow_empty:");
                valid = false;
            }
        }

        return valid ? (deletes, column, allowEmpty) : null;
    }
}
