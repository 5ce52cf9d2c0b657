namespace Sync.EndToEnd.Tests.Infrastructure;

/// <summary>The queues of a deployment's virtual host as the broker counts them (rabbitmqctl list_queues).</summary>
public static class BrokerQueues
{
    public static async Task<IReadOnlyList<QueueDepth>> ReadAsync(SyncDeployment deployment)
    {
        var output = await TestInfrastructure.RabbitMqCtlAsync("list_queues", "-q", "-p", deployment.Id, "name", "messages", "messages_unacknowledged");
        var queues = new List<QueueDepth>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var fields = line.Split('\t');
            if (fields.Length == 3 && long.TryParse(fields[1], out var ready) && long.TryParse(fields[2], out var unacknowledged))
            {
                queues.Add(new QueueDepth(fields[0], ready, unacknowledged));
            }
        }

        return queues;
    }

    /// <summary>
    /// Waits until every consumer queue is empty with nothing unacknowledged, twice in a row: every
    /// message published before the call was consumed, and whatever it caused was consumed too.
    /// </summary>
    public static async Task WaitUntilDrainedAsync(SyncDeployment deployment)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        var drainedReadings = 0;
        IReadOnlyList<QueueDepth> queues = [];
        while (drainedReadings < 2)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The queues never drained: {string.Join(", ", queues)}\n{deployment.Logs()}");
            }

            queues = await ReadAsync(deployment);
            drainedReadings = queues.Where(q => !q.IsErrorQueue).All(q => q.Ready == 0 && q.Unacknowledged == 0) ? drainedReadings + 1 : 0;
        }
    }

    /// <summary>Messages that ended in an error queue (MassTransit's <c>…_error</c>), by queue.</summary>
    public static async Task<string> DeadLetteredAsync(SyncDeployment deployment) =>
        string.Join(", ", (await ReadAsync(deployment)).Where(q => q.IsErrorQueue && q.Ready + q.Unacknowledged > 0));
}

public sealed record QueueDepth(string Name, long Ready, long Unacknowledged)
{
    public bool IsErrorQueue => Name.EndsWith("_error", StringComparison.Ordinal) || Name.EndsWith("_skipped", StringComparison.Ordinal);
}
