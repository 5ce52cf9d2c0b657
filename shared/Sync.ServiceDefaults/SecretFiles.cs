using System.Collections;
using Microsoft.Extensions.Configuration;

namespace Sync.ServiceDefaults;

/// <summary>
/// Settings read from files (issue 20): an environment variable <c>NAME_FILE</c> holding a path sets
/// <c>NAME</c> to that file's content, as mounted secrets (Docker/Kubernetes secrets under
/// /run/secrets) are meant to be used, so a password need not sit in the environment. E.g.
/// <c>Connections__source_FILE=/run/secrets/source</c> sets <c>Connections:source</c>. Only names with a
/// section (<c>__</c>) count: other tools' <c>…_FILE</c> variables are left alone. A trailing line
/// break is dropped; a file that cannot be read stops the service with the variable's name.
/// </summary>
public sealed class SecretFilesSource(IDictionary variables) : IConfigurationSource
{
    public const string Suffix = "_FILE";

    public IConfigurationProvider Build(IConfigurationBuilder builder) => new SecretFilesProvider(variables);

    private sealed class SecretFilesProvider(IDictionary variables) : ConfigurationProvider
    {
        public override void Load()
        {
            var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
            foreach (DictionaryEntry variable in variables)
            {
                // Only settings with a section (Connections__source_FILE): other tools' variables end in
                // _FILE too (TF_CLI_CONFIG_FILE, say), and are none of Sync's business.
                if (variable.Key is not string name || !name.EndsWith(Suffix, StringComparison.Ordinal) || !name.Contains("__", StringComparison.Ordinal)
                    || variable.Value is not string path)
                {
                    continue;
                }

                string content;
                try
                {
                    content = File.ReadAllText(path);
                }
                catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
                {
                    throw new InvalidOperationException($"{name} names the file {path}, which cannot be read: {exception.Message}", exception);
                }

                data[name[..^Suffix.Length].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal)] = content.TrimEnd('\r', '\n');
            }

            Data = data;
        }
    }
}
