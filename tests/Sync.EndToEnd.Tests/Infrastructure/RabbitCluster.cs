using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>
/// A 3-node RabbitMQ cluster of the test's own on loopback (scripts/rabbit-cluster.sh), apart from
/// the shared broker: its own folder, ports, epmd and cookie; guest/guest on vhost "/". Disposing
/// stops the nodes and deletes their state.
/// </summary>
public sealed class RabbitCluster : IAsyncDisposable
{
    private readonly string _directory;

    private RabbitCluster(string directory, string members)
    {
        _directory = directory;
        Members = members;
    }

    /// <summary>The nodes' AMQP addresses, comma-separated: the value of RabbitMq__ClusterMembers.</summary>
    public string Members { get; }

    public static async Task<RabbitCluster> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"sync-cluster-{Guid.NewGuid():N}"[..24]);
        try
        {
            var members = (await ScriptAsync("up", directory, FreePortBlock().ToString(System.Globalization.CultureInfo.InvariantCulture))).Trim();
            return new RabbitCluster(directory, members.Split('\n')[^1]);
        }
        catch
        {
            await ScriptAsync("down", directory);
            throw;
        }
    }

    /// <summary>Sets the deployment's services to connect to the cluster's nodes, with quorum stage queues.</summary>
    public void Connect(SyncDeployment deployment)
    {
        var first = Members.Split(',')[0].Split(':');
        deployment.SetEnvironment("RabbitMq__Host", first[0]);
        deployment.SetEnvironment("RabbitMq__Port", first[1]);
        deployment.SetEnvironment("RabbitMq__ClusterMembers", Members);
        deployment.SetEnvironment("RabbitMq__VirtualHost", "/");
        deployment.SetEnvironment("RabbitMq__Username", "guest");
        deployment.SetEnvironment("RabbitMq__Password", "guest");
        deployment.SetEnvironment("RabbitMq__QueueType", "Quorum");
    }

    /// <summary>rabbitmqctl <paramref name="arguments"/> against node <paramref name="node"/> (1–3).</summary>
    public Task<string> CtlAsync(int node, params string[] arguments) =>
        ScriptAsync(["ctl", _directory, node.ToString(System.Globalization.CultureInfo.InvariantCulture), .. arguments]);

    /// <summary>rabbitmqctl stop_app on node <paramref name="node"/>: its clients' connections drop, the other two nodes go on.</summary>
    public Task StopNodeAsync(int node) => ScriptAsync("stop-app", _directory, node.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>kill -9 of node <paramref name="node"/>'s Erlang VM: gone at once, as with a crashed machine.</summary>
    public Task KillNodeAsync(int node) => ScriptAsync("kill", _directory, node.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The node (1–3) that leads each quorum queue, by queue name.</summary>
    public async Task<IReadOnlyDictionary<string, int>> LeadersAsync() =>
        (await CtlAsync(1, "list_queues", "-q", "name", "leader"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t'))
            .Where(fields => fields.Length == 2 && fields[1].StartsWith('c'))
            .ToDictionary(fields => fields[0], fields => fields[1][1] - '0');

    public async ValueTask DisposeAsync() => await ScriptAsync("down", _directory);

    private static async Task<string> ScriptAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(Path.Combine(TestInfrastructure.RepositoryRoot, "scripts", "rabbit-cluster.sh"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbit-cluster.sh {string.Join(' ', arguments)} failed ({process.ExitCode}): {await output}{await error}");
        }

        return await output;
    }

    // The script takes ports PORT+1 … PORT+39: a block of free ones, above the ephemeral range's usual start.
    private static int FreePortBlock()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = Random.Shared.Next(20_000, 32_000) / 100 * 100;
            if (Enumerable.Range(port + 1, 39).All(IsFree))
            {
                return port;
            }
        }

        throw new InvalidOperationException("No block of 40 free ports between 20000 and 32000.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
