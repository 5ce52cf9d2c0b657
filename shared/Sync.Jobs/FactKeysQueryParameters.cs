using System.Text.RegularExpressions;
using Sync.Contracts.Jobs;

namespace Sync.Jobs;

/// <summary>The columns of a dependency table a change must carry, in its old row too, to name its facts.</summary>
public static partial class FactKeysQueryParameters
{
    /// <summary>The <c>@name</c> parameters of a <c>fact_keys_query</c>, in order of first use: each a column of its table.</summary>
    public static IReadOnlyList<string> Of(string query) =>
        [.. Parameter().Matches(query).Select(m => m.Groups[1].Value).Distinct(StringComparer.Ordinal)];

    /// <summary><see cref="SourceDependency.FactKey"/>, or the parameters of its query.</summary>
    public static IReadOnlyList<string> KeyColumns(SourceDependency dependency) =>
        dependency.FactKey ?? Of(dependency.FactKeysQuery ?? string.Empty);

    // Npgsql's named-parameter syntax; '@@' or an '@' after a word character is not a parameter.
    [GeneratedRegex(@"(?<![\w@])@([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex Parameter();
}
