using System.Text.RegularExpressions;

namespace Sync.Jobs;

/// <summary>
/// The one place Sync turns names into SQL. Only unquoted PostgreSQL-style identifiers are accepted,
/// and they are always emitted double-quoted, so the name reaches PostgreSQL exactly as written (no case folding).
/// </summary>
public static partial class SqlIdentifier
{
    /// <summary>63 = PostgreSQL's NAMEDATALEN - 1; longer names are silently truncated by the server.</summary>
    public const int MaxLength = 63;

    // \z, not $: $ also matches before a trailing newline.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_$]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();

    public static bool IsValid(string? identifier) => identifier is not null && Pattern().IsMatch(identifier);

    /// <summary>Quotes one identifier: <c>orders</c> → <c>"orders"</c>. Throws <see cref="ArgumentException"/> when it is not valid.</summary>
    public static string Quote(string identifier)
    {
        ArgumentNullException.ThrowIfNull(identifier);
        if (!IsValid(identifier))
        {
            throw new ArgumentException($"Not a valid SQL identifier: {Describe(identifier)}.", nameof(identifier));
        }

        // Validation already rules out quotes; doubling them keeps this safe should the rule ever widen.
        return "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary><c>public.orders</c> → <c>"public"."orders"</c>; <c>orders</c> → <c>"orders"</c>.</summary>
    public static string QuoteQualified(string schemaDotTable)
    {
        ArgumentNullException.ThrowIfNull(schemaDotTable);
        var parts = SplitParts(schemaDotTable);
        return string.Join('.', parts.Select(Quote));
    }

    /// <summary>Splits <c>[schema.]table</c>; a bare table gets <paramref name="defaultSchema"/>.</summary>
    public static (string Schema, string Table) Split(string qualified, string defaultSchema = "public")
    {
        ArgumentNullException.ThrowIfNull(qualified);
        if (!IsValid(defaultSchema))
        {
            throw new ArgumentException($"Not a valid schema name: {Describe(defaultSchema)}.", nameof(defaultSchema));
        }

        var parts = SplitParts(qualified);
        return parts.Length == 1 ? (defaultSchema, parts[0]) : (parts[0], parts[1]);
    }

    /// <summary>True for <c>table</c> or <c>schema.table</c> with valid parts.</summary>
    public static bool IsValidQualified(string? qualified)
    {
        if (qualified is null)
        {
            return false;
        }

        var parts = qualified.Split('.');
        return parts.Length <= 2 && parts.All(IsValid);
    }

    private static string[] SplitParts(string qualified)
    {
        if (!IsValidQualified(qualified))
        {
            throw new ArgumentException(
                $"Not a valid [schema.]table name: {Describe(qualified)}.", nameof(qualified));
        }

        return qualified.Split('.');
    }

    private static string Describe(string? value) => value is null ? "null" : ValueText.Show(value);
}
