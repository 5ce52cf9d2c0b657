namespace Sync.Testing;

/// <summary>
/// A service's broker permissions on its virtual host (the configure, write and read regular
/// expressions of <c>rabbitmqctl set_permissions</c>), as deploy/rabbitmq/permissions.tsv gives them:
/// the same file the local infrastructure and the compose stack create their users from.
/// </summary>
public sealed record BrokerPermissions(string Configure, string Write, string Read)
{
    public static string File => Path.Combine(TestInfrastructure.RepositoryRoot, "deploy", "rabbitmq", "permissions.tsv");

    /// <summary>By service name, lower case (coordinator, extractor, transformer, loader).</summary>
    public static IReadOnlyDictionary<string, BrokerPermissions> ByService { get; } = ReadFile();

    private static Dictionary<string, BrokerPermissions> ReadFile()
    {
        var permissions = new Dictionary<string, BrokerPermissions>(StringComparer.Ordinal);
        foreach (var line in System.IO.File.ReadAllLines(File))
        {
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split('\t');
            if (fields.Length != 4)
            {
                throw new FormatException($"{File}: expected service, configure, write and read separated by tabs: {line}");
            }

            permissions[fields[0]] = new BrokerPermissions(fields[1], fields[2], fields[3]);
        }

        return permissions;
    }
}
