using System.Text.RegularExpressions;

namespace Sync.Jobs;

/// <summary>
/// A job names its connections; the connection strings, with their passwords, live in configuration
/// (<c>Connections__&lt;name&gt;</c> in the environment), never in a job file that is checked in.
/// </summary>
internal static partial class ConnectionRules
{
    // No "__": in an environment variable it separates configuration sections, so Connections__a__b would not resolve a__b.
    [GeneratedRegex(@"^[A-Za-z](?:_?[A-Za-z0-9])*_?\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"(?:^|;)\s*(?:database|dbname|initial catalog)\s*=\s*([^;]+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DatabaseKeyword();

    [GeneratedRegex(@"://[^/]*/([^?/]+)", RegexOptions.CultureInvariant)]
    private static partial Regex DatabaseInUri();

    [GeneratedRegex(@"[^A-Za-z0-9]+", RegexOptions.CultureInvariant)]
    private static partial Regex NotNameChars();

    public static string? Name(YamlScalar connection, JobFileErrors errors, string section)
    {
        var value = connection.Value;
        if (value.Contains('=', StringComparison.Ordinal) || value.Contains(';', StringComparison.Ordinal) || value.Contains("://", StringComparison.Ordinal))
        {
            // The value is not echoed: it may hold a password.
            var name = SuggestedName(value, section);
            errors.Add(
                connection.Mark,
                connection.Field,
                "looks like a connection string; a job file names a connection and the connection string stays out of it",
                $"write connection: {name} and set the environment variable Connections__{name} to the connection string");
            return null;
        }

        if (NamePattern().IsMatch(value))
        {
            return value;
        }

        errors.Add(
            connection.Mark,
            connection.Field,
            $"must be a connection name like {section}_db (got {connection.Shown})",
            "use letters, digits and single underscores, starting with a letter; the connection string goes in the environment as Connections__<name>");
        return null;
    }

    private static string SuggestedName(string connectionString, string section)
    {
        var match = DatabaseKeyword().Match(connectionString);
        if (!match.Success)
        {
            match = DatabaseInUri().Match(connectionString);
        }

        var name = match.Success ? NotNameChars().Replace(match.Groups[1].Value.Trim(), "_").Trim('_') : "";
        return NamePattern().IsMatch(name) ? name : $"{section}_db";
    }
}
