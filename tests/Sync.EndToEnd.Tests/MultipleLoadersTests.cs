using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Three Loader processes on one queue: the batches of a run are split between them and each is
/// applied once. The stage queues are quorum queues here (RabbitMq:QueueType, issue 19), the kind a
/// cluster replicates: competing consumers on them behave the same.
/// </summary>
public sealed class MultipleLoadersTests
{
    private const int Rows = 20_000;
    private const int BatchSize = 500;
    private const int Loaders = 3;

    [Fact]
    public async Task Three_loaders_share_the_batches_and_apply_each_once()
    {
        await using var deployment = await SyncDeployment.CreateAsync("loaders");
        deployment.LoaderCount = Loaders;
        deployment.SetEnvironment("RabbitMq__QueueType", "Quorum");
        await OrdersTable.CreateAsync(deployment.Source, "orders_scaled");
        await OrdersTable.CreateAsync(deployment.Destination, "orders_scaled");
        await OrdersTable.SeedAsync(deployment.Source, "orders_scaled", 1, Rows);
        deployment.WriteJob("orders_scaled.yml", OrdersTable.Job("orders-scaled", "orders_scaled", BatchSize));
        await deployment.StartAsync();
        await WaitForLoadConsumersAsync(deployment);

        var run = await deployment.RunAsync("orders-scaled", TimeSpan.FromMinutes(3));

        Assert.True(run.State == "Completed", $"{run}\n{deployment.Logs()}");
        const int batches = Rows / BatchSize;
        Assert.Equal(batches, run.ExpectedBatches);
        Assert.Equal(batches, run.LoadedBatches);
        Assert.Equal((long)Rows, run.Inserted);
        Assert.Equal((long)Rows, await OrdersTable.CountAsync(deployment.Destination, "orders_scaled"));
        Assert.Equal(await OrdersTable.DigestAsync(deployment.Source, "orders_scaled"), await OrdersTable.DigestAsync(deployment.Destination, "orders_scaled"));

        // Once each: one applied-batches row per batch (its key is the batch), rows adding up to the
        // source, and the Coordinator counted each batch once.
        Assert.Equal((long)batches, await OrdersTable.ScalarAsync(deployment.Destination,
            "SELECT count(DISTINCT batch_seq) FROM sync.applied_batches WHERE run_id = $1", run.RunId));
        Assert.Equal((long)batches, await OrdersTable.ScalarAsync(deployment.Destination,
            "SELECT count(*) FROM sync.applied_batches WHERE run_id = $1", run.RunId));
        Assert.Equal((long)Rows, await OrdersTable.ScalarAsync(deployment.Destination,
            "SELECT sum(rows) FROM sync.applied_batches WHERE run_id = $1", run.RunId));
        Assert.Equal((long)batches, await OrdersTable.ScalarAsync(deployment.Control,
            "SELECT count(*) FROM sync_run_batches WHERE run_id = $1", run.RunId));

        // Every stage queue is a quorum queue.
        var types = (await TestInfrastructure.RabbitMqCtlAsync("list_queues", "-q", "-p", deployment.Id, "name", "type"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('\t'))
            .Where(fields => fields.Length == 2)
            .ToDictionary(fields => fields[0], fields => fields[1]);
        Assert.All(new[] { "extract-batches", "transform-batch", "load-batch" }, queue => Assert.Equal("quorum", types.GetValueOrDefault(queue)));

        // Split: every batch names the Loader that applied it, and more than one did.
        Assert.Equal(0L, await OrdersTable.ScalarAsync(deployment.Destination,
            "SELECT count(*) FROM sync.applied_batches WHERE run_id = $1 AND loaded_by IS NULL", run.RunId));
        var byLoader = (string)(await OrdersTable.ScalarAsync(deployment.Destination,
            "SELECT string_agg(loaded_by || '=' || n, ', ' ORDER BY loaded_by) FROM (SELECT loaded_by, count(*) n FROM sync.applied_batches WHERE run_id = $1 GROUP BY loaded_by) t",
            run.RunId))!;
        var loaders = byLoader.Split(", ");
        Assert.True(loaders.Length > 1, $"one Loader applied every batch: {byLoader}");
        Assert.All(loaders, l => Assert.Matches("^loader-[1-3]=[0-9]+$", l));
    }

    /// <summary>Waits until all three Loaders consume from load-batch, so none gets the whole run by starting first.</summary>
    private static async Task WaitForLoadConsumersAsync(SyncDeployment deployment)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        var output = string.Empty;
        while (DateTime.UtcNow < deadline)
        {
            output = await TestInfrastructure.RabbitMqCtlAsync("list_queues", "-q", "-p", deployment.Id, "name", "consumers");
            var queue = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(line => line.Split('\t'))
                .FirstOrDefault(fields => fields.Length == 2 && fields[0] == "load-batch");
            if (queue is not null && int.Parse(queue[1], System.Globalization.CultureInfo.InvariantCulture) >= Loaders)
            {
                return;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"The load-batch queue never had {Loaders} consumers:\n{output}\n{deployment.Logs()}");
    }
}
