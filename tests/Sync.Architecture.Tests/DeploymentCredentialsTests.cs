using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Sync.Architecture.Tests;

/// <summary>
/// Issue 20, item 5: no deployment file ships a working credential. Every setting of docker-compose.yml
/// and deploy/kubernetes whose name says it is a secret (a password, a key, a token, a connection
/// string) is a mounted file (<c>…_FILE</c> under a secrets folder) or a variable with no default
/// (<c>${SYNC_API_KEY}</c>, which <c>./run containers up</c> makes at random); a literal, or a
/// <c>${VAR:-default}</c>, would be the same public constant in every installation. Together with
/// <c>ApiAccessTests</c> (with no key the API answers loopback only) no default opens anything.
/// </summary>
public sealed partial class DeploymentCredentialsTests
{
    [Fact]
    public void The_compose_file_takes_every_secret_from_a_secret_file_or_a_variable_without_default()
    {
        var settings = Settings(Path.Combine(Projects.Root, "docker-compose.yml")).ToArray();

        Assert.Contains(settings, s => s.Name == "Coordinator__ApiKey");
        Assert.Contains(settings, s => s.Name == "Messaging__JobSigningKey");
        Assert.Empty(settings.Where(s => Secret(s.Name) && !Safe(s.Name, s.Value)).Select(s => $"{s.File}: {s.Name}: {s.Value}"));
    }

    [Fact]
    public void The_kubernetes_manifests_take_every_secret_from_a_mounted_secret()
    {
        var folder = Path.Combine(Projects.Root, "deploy", "kubernetes");
        var settings = Directory.EnumerateFiles(folder, "*.yaml", SearchOption.AllDirectories).SelectMany(Settings).ToArray();

        Assert.Contains(settings, s => s.Name == "Coordinator__ApiKey_FILE");
        Assert.Empty(settings.Where(s => Secret(s.Name) && !Safe(s.Name, s.Value)).Select(s => $"{s.File}: {s.Name}: {s.Value}"));
    }

    [Theory]
    [InlineData("Coordinator__ApiKey", "sync-demo-key")]
    [InlineData("Coordinator__ApiKey", "${SYNC_API_KEY:-sync-demo-key}")]
    [InlineData("RabbitMq__Password", "sync")]
    [InlineData("Connections__demo_source", "Host=postgres;Password=sync")]
    [InlineData("RabbitMq__Password_FILE", "/tmp/rabbitmq-password")]
    public void A_literal_or_defaulted_credential_is_caught(string name, string value) =>
        Assert.False(Secret(name) && Safe(name, value));

    private static bool Secret(string name) =>
        SecretName().IsMatch(name) || name.StartsWith("Connections__", StringComparison.Ordinal) || name.StartsWith("ConnectionStrings__", StringComparison.Ordinal);

    private static bool Safe(string name, string value) =>
        name.EndsWith("_FILE", StringComparison.Ordinal)
            ? value.StartsWith("/run/secrets/", StringComparison.Ordinal)
            : BareVariable().IsMatch(value);

    private static IEnumerable<(string File, string Name, string Value)> Settings(string path)
    {
        var file = Path.GetRelativePath(Projects.Root, path);
        var stream = new YamlStream();
        using (var reader = File.OpenText(path))
        {
            stream.Load(reader);
        }

        foreach (var document in stream.Documents)
        {
            foreach (var node in document.AllNodes.OfType<YamlMappingNode>())
            {
                // compose: environment maps (and their anchors); Kubernetes: env entries {name, value}.
                if (node.Children.TryGetValue(new YamlScalarNode("name"), out var name) && node.Children.TryGetValue(new YamlScalarNode("value"), out var value)
                    && name is YamlScalarNode { Value: { } n } && value is YamlScalarNode { Value: { } v } && n.Contains("__", StringComparison.Ordinal))
                {
                    yield return (file, n, v);
                }

                foreach (var (key, child) in node.Children)
                {
                    if (key is YamlScalarNode { Value: { } k } && child is YamlScalarNode { Value: { } c } && (k.Contains("__", StringComparison.Ordinal) || k.StartsWith("RABBITMQ_", StringComparison.Ordinal) || k.StartsWith("POSTGRES_", StringComparison.Ordinal)))
                    {
                        yield return (file, k, c);
                    }
                }
            }
        }
    }

    [GeneratedRegex("(Password|PASSWORD|PASS|ApiKey|SigningKey|Secret|Token)", RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"^\$\{[A-Z_][A-Z0-9_]*\}$", RegexOptions.CultureInvariant)]
    private static partial Regex BareVariable();
}
