using System.Data.Common;
using Microsoft.Extensions.Configuration;

namespace Sync.ServiceDefaults;

/// <summary>
/// Masks secrets in text bound for a log: the passwords of connection strings, and every secret
/// value this service was configured with (keys named like a password, secret, API key, signing key or token),
/// wherever such a value turns up — an exception message, a connection string, a URL.
/// </summary>
public sealed class SecretRedactor
{
    public const string Mask = "***";

    // Shorter values would mask ordinary words ("sync" is the demo's password and user name).
    private const int MinimumSecretLength = 6;

    private static readonly string[] SecretKeyParts = ["password", "pwd", "secret", "apikey", "api_key", "token", "signingkey"];
    private static readonly string[] ConnectionSections = ["ConnectionStrings", "Connections"];

    private readonly string[] _secrets;

    public SecretRedactor(IEnumerable<string> secrets) =>
        _secrets = [.. secrets.Where(s => s.Length >= MinimumSecretLength).Distinct(StringComparer.Ordinal).OrderByDescending(s => s.Length)];

    public static SecretRedactor FromConfiguration(IConfiguration configuration)
    {
        var secrets = new List<string>();
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            if (string.IsNullOrEmpty(value))
            {
                continue;
            }

            var name = key[(key.LastIndexOf(':') + 1)..];
            if (IsSecretName(name))
            {
                secrets.Add(value);
            }
            else if (ConnectionSections.Any(section => key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase)) && ConnectionPassword(value) is { } password)
            {
                secrets.Add(password);
            }
        }

        return new SecretRedactor(secrets);
    }

    public string Redact(string text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text;
        }

        foreach (var secret in _secrets)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                text = text.Replace(secret, Mask, StringComparison.Ordinal);
            }
        }

        return text;
    }

    /// <summary>A connection string with its password (Password, Pwd) replaced by the mask; other keys kept.</summary>
    public static string RedactConnectionString(string connectionString)
    {
        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = connectionString;
        }
        catch (ArgumentException)
        {
            // Not a connection string we can parse: say nothing of it rather than risk the secret.
            return Mask;
        }

        foreach (var key in builder.Keys.Cast<string>().Where(IsSecretName).ToList())
        {
            builder[key] = Mask;
        }

        return builder.ConnectionString;
    }

    private static bool IsSecretName(string name) =>
        SecretKeyParts.Any(part => name.Replace(" ", "", StringComparison.Ordinal).Contains(part, StringComparison.OrdinalIgnoreCase));

    private static string? ConnectionPassword(string value)
    {
        var builder = new DbConnectionStringBuilder();
        try
        {
            builder.ConnectionString = value;
        }
        catch (ArgumentException)
        {
            return null;
        }

        return builder.Keys.Cast<string>().Where(IsSecretName).Select(k => builder[k]?.ToString()).FirstOrDefault(v => !string.IsNullOrEmpty(v));
    }
}
