using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// The optional <c>columns:</c> mapping, destination column: source column, in order. Absent means every source column
/// under its own name (an empty list, resolved later against the live schema). When present it must read the cursor and
/// every primary-key column, because the loader needs them. A value is a source column, or
/// <c>{ source: column, cast: type }</c> to convert the value record by record (a record that does not convert is
/// set aside as a dead letter, the rest of its batch goes on).
/// </summary>
internal static class ColumnsSection
{
    private const string Key = "columns";
    private static readonly string[] ValueKeys = ["source", "cast", "expr"];
    private static readonly string[] ExpressionKeys = ["expr"];

    /// <summary>The mapping, empty when absent; null when it has errors.</summary>
    public static IReadOnlyList<ColumnMapping>? Read(YamlNodeReader job, JobFileErrors errors, SourceDraft? source)
    {
        if (!job.Has(Key))
        {
            return [];
        }

        var pairs = job.Pairs(Key, "customer: customer_name", ValueKeys, ExpressionKeys);
        if (pairs is null)
        {
            return null;
        }

        if (pairs.Count == 0)
        {
            errors.Add(job.KeyMark(Key), Key, "is empty", "remove columns: to copy every source column, or list destination: source pairs under it");
            return null;
        }

        var valid = true;
        var targets = new HashSet<string>(StringComparer.Ordinal);
        var sources = new HashSet<string>(StringComparer.Ordinal);
        var casts = new Dictionary<string, string>(StringComparer.Ordinal);
        var expressions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (target, from, options) in pairs)
        {
            if (options?.Has("expr") == true)
            {
                valid &= ExpressionSection.Read(options, errors, target, from, expressions);
                if (options.Scalar("cast", "integer") is { } exprCast)
                {
                    valid &= FieldRules.Choice(exprCast, errors, Kinds.Casts, out var exprType);
                    casts[target.Value] = exprType;
                }

                valid &= FieldRules.Identifier(target, errors, "a destination column name like customer") is not null;
                if (!targets.Add(target.Value))
                {
                    errors.Add(target.Mark, target.Field, $"maps destination column {target.Shown} twice", "keep one entry per destination column");
                    valid = false;
                }

                continue;
            }

            if (options?.Scalar("cast", "integer") is { } cast)
            {
                if (FieldRules.Choice(cast, errors, Kinds.Casts, out var type))
                {
                    casts[target.Value] = type;
                }
                else
                {
                    valid = false;
                }
            }

            var targetName = FieldRules.Identifier(target, errors, "a destination column name like customer");
            var sourceName = FieldRules.Identifier(from, errors, "a source column name like customer_name");
            if (targetName is not null && !targets.Add(targetName))
            {
                errors.Add(target.Mark, target.Field, $"maps destination column {target.Shown} twice", "keep one entry per destination column");
                valid = false;
            }

            valid &= targetName is not null && sourceName is not null;
            sources.Add(from.Value);
        }

        var required = new List<string>();
        if (source?.Cursor is { Length: > 0 } cursor)
        {
            required.Add(cursor);
        }

        required.AddRange(source?.PrimaryKey ?? []);
        foreach (var column in required.Distinct(StringComparer.Ordinal).Where(c => !sources.Contains(c)))
        {
            var role = column == source?.Cursor ? "the source cursor column" : "the source primary-key column";
            errors.Add(
                job.KeyMark(Key),
                Key,
                $"does not read {role} {column}; the loader needs it",
                $"add {column}: {column} under columns:");
            valid = false;
        }

        return valid
            ? pairs.Select(p => expressions.TryGetValue(p.Key.Value, out var expression)
                ? new ColumnMapping(p.Key.Value, "", casts.GetValueOrDefault(p.Key.Value), expression)
                : new ColumnMapping(p.Key.Value, p.Value.Value, casts.GetValueOrDefault(p.Key.Value))).ToList()
            : null;
    }
}
