using System.Text.RegularExpressions;
using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>
/// The <c>source:</c> keys of <c>type: code</c>: the name a C# source is registered under
/// (<c>[SyncSource("name")]</c>), and the cursor and primary key among its columns. It has no
/// connection: the class reads whatever it reads. The name travels in <see cref="SourceSpec.Table"/>.
/// </summary>
internal static partial class CodeSourceSection
{
    public static readonly string[] Keys = ["name"];

    private static readonly string[] Allowed = ["type", "name", "cursor", "primary_key"];

    // The names C# classes register under: an identifier, with - and . allowed after the first character.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_.\-]{0,99}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    public static SourceDraft Read(YamlNodeReader source, JobFileErrors errors)
    {
        foreach (var key in SourceSection.Keys.Union(HttpSourceSection.Keys).Union(FilesSourceSection.Keys).Except(Allowed).Where(source.Has))
        {
            errors.Add(source.KeyMark(key), source.FieldOf(key), "does not apply to a code source",
                "remove it: a code source reads what its C# class yields; only name, cursor and primary_key apply");
        }

        var name = source.Scalar("name", "demo_orders", required: true) is { } n ? Name(n, errors, "[SyncSource(\"demo_orders\")]") : null;
        var cursor = source.Scalar("cursor", "updated_at", required: true) is { } c
            ? FieldRules.Identifier(c, errors, "a column name of the C# source's schema like updated_at")
            : null;
        var primaryKey = FieldRules.ColumnList(source.ScalarList("primary_key", "id", required: true), errors);
        return new SourceDraft(name is null ? null : SourceKind.Code, string.Empty, name, cursor, primaryKey, TimeSpan.Zero);
    }

    /// <summary>Reports <c>name:</c> under a source of another kind.</summary>
    public static void RefuseKeys(YamlNodeReader source, JobFileErrors errors, string kind)
    {
        foreach (var key in Keys.Where(source.Has))
        {
            errors.Add(source.KeyMark(key), source.FieldOf(key), $"does not apply to a {kind} source",
                "remove it, or set type: code to read a C# source registered under that name");
        }
    }

    /// <summary>A registered name of a C# source or sink.</summary>
    public static string? Name(YamlScalar name, JobFileErrors errors, string attribute)
    {
        if (NamePattern().IsMatch(name.Value))
        {
            return name.Value;
        }

        errors.Add(name.Mark, name.Field, $"must be the name a C# class is registered under, like demo_orders (got {name.Shown})",
            $"use the name of the class's attribute, e.g. {attribute}: a letter or _, then letters, digits, _ - or ., at most 100 characters");
        return null;
    }
}
