namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>Reads queue depths of a virtual host through rabbitmqctl.</summary>
public static class RabbitQueues
{
    public static async Task<IReadOnlyDictionary<string, long>> DepthsAsync(string virtualHost)
    {
        var output = await TestInfrastructure.RabbitMqCtlAsync("list_queues", "-q", "-p", virtualHost, "name", "messages");
        var depths = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = line.Split('\t', StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && long.TryParse(parts[1], out var messages))
            {
                depths[parts[0]] = messages;
            }
        }

        return depths;
    }
}
