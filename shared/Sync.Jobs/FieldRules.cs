using System.Text.RegularExpressions;

namespace Sync.Jobs;

/// <summary>Checks single values of a job file (names, identifiers, tables, choices), reporting errors with a fix.</summary>
internal static partial class FieldRules
{
    private const string IdentifierRule = "letters, digits, _ and $, not starting with a digit, at most 63 characters";

    [GeneratedRegex(@"^[a-z][a-z0-9_-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex JobNamePattern();

    [GeneratedRegex(@"[^A-Za-z0-9_$]+", RegexOptions.CultureInvariant)]
    private static partial Regex NotIdentifierChars();

    public static string? JobName(YamlScalar name, JobFileErrors errors)
    {
        if (JobNamePattern().IsMatch(name.Value))
        {
            return name.Value;
        }

        var fixedName = NotIdentifierChars().Replace(name.Value.ToLowerInvariant(), "_").Replace('$', '_').Trim('_');
        var suggestion = JobNamePattern().IsMatch(fixedName)
            ? $"use {fixedName} (lower-case letters, digits, _ and -, starting with a letter, at most 63 characters)"
            : "use lower-case letters, digits, _ and -, starting with a letter, at most 63 characters, e.g. orders_to_reporting";
        errors.Add(name.Mark, name.Field, $"must be a job name like orders_to_reporting (got {name.Shown})", suggestion);
        return null;
    }

    /// <param name="what">What the identifier names, with an example: "a column name like updated_at".</param>
    public static string? Identifier(YamlScalar identifier, JobFileErrors errors, string what)
    {
        if (SqlIdentifier.IsValid(identifier.Value))
        {
            return identifier.Value;
        }

        var fixedName = NotIdentifierChars().Replace(identifier.Value.Trim('"', '\'', ' '), "_").Trim('_');
        if (fixedName.Length > 0 && char.IsAsciiDigit(fixedName[0]))
        {
            fixedName = "_" + fixedName;
        }

        var suggestion = fixedName != identifier.Value && SqlIdentifier.IsValid(fixedName)
            ? $"use {fixedName} ({IdentifierRule}; job files take names unquoted)"
            : $"use {IdentifierRule}; job files take names unquoted";
        var message = identifier.Value.Length > SqlIdentifier.MaxLength
            ? $"must be {what}, at most {SqlIdentifier.MaxLength} characters (got {identifier.Value.Length})"
            : $"must be {what} (got {identifier.Shown})";
        errors.Add(identifier.Mark, identifier.Field, message, suggestion);
        return null;
    }

    public static string? Table(YamlScalar table, JobFileErrors errors)
    {
        if (SqlIdentifier.IsValidQualified(table.Value))
        {
            return table.Value;
        }

        var parts = table.Value.Split('.');
        var suggestion = parts.Length > 2
            ? "write schema.table, e.g. public.orders; the database comes from the connection"
            : $"write [schema.]table with each part made of {IdentifierRule}, e.g. public.orders";
        errors.Add(table.Mark, table.Field, $"must be a table name like public.orders (got {table.Shown})", suggestion);
        return null;
    }

    /// <summary>One of <paramref name="allowed"/>'s keys, exactly; otherwise an error suggesting the closest.</summary>
    public static bool Choice<T>(YamlScalar choice, JobFileErrors errors, IReadOnlyDictionary<string, T> allowed, out T value)
    {
        if (allowed.TryGetValue(choice.Value, out value!))
        {
            return true;
        }

        var names = string.Join(", ", allowed.Keys);
        var closest = Suggestions.Closest(choice.Value, allowed.Keys);
        errors.Add(
            choice.Mark,
            choice.Field,
            $"must be one of {names} (got {choice.Shown})",
            closest is null ? $"use one of: {names}" : $"use {closest}");
        return false;
    }

    /// <summary>Column identifiers, each once; null when any is missing or invalid.</summary>
    public static IReadOnlyList<string>? ColumnList(IReadOnlyList<YamlScalar>? columns, JobFileErrors errors)
    {
        if (columns is null)
        {
            return null;
        }

        var valid = true;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var column in columns)
        {
            if (Identifier(column, errors, "a column name like id") is null)
            {
                valid = false;
            }
            else if (!seen.Add(column.Value))
            {
                errors.Add(column.Mark, column.Field, $"lists {column.Shown} twice", "remove the repeated column");
                valid = false;
            }
        }

        return valid ? columns.Select(c => c.Value).ToList() : null;
    }

    /// <summary>A duration from zero up to <paramref name="max"/>; null (and an error) otherwise.</summary>
    public static TimeSpan? Duration(YamlScalar duration, JobFileErrors errors, TimeSpan max, string example)
    {
        if (!Jobs.Duration.TryParse(duration.Value, out var value))
        {
            errors.Add(duration.Mark, duration.Field, $"must be a duration like {example} (got {duration.Shown})", Jobs.Duration.Suggest(duration.Value));
            return null;
        }

        if (value < TimeSpan.Zero || value > max)
        {
            errors.Add(duration.Mark, duration.Field, $"must be at most {max:c} (got {duration.Shown})", $"use a duration up to {max:c}");
            return null;
        }

        return value;
    }
}
