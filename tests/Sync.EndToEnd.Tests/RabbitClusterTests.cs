using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// The services on a 3-node RabbitMQ cluster (RabbitMq:ClusterMembers) with quorum stage queues
/// (issue 19, item 2): the node leading the load-batch queue is killed (kill -9) mid-run, the
/// services' connections move to the other nodes, and the run completes with every batch applied once and counted once.
/// </summary>
public sealed class RabbitClusterTests(ITestOutputHelper output)
{
    private const int Rows = 30_000;
    private const int BatchSize = 100;
    private const int Batches = Rows / BatchSize;

    [Fact]
    public async Task A_node_killed_mid_run_loses_and_doubles_no_batch()
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await using var cluster = await RabbitCluster.StartAsync();
        output.WriteLine($"cluster up in {clock.Elapsed.TotalSeconds:F0} s");
        await using var sync = await SyncDeployment.CreateAsync("cluster");
        cluster.Connect(sync);
        await OrdersTable.CreateAsync(sync.Source, "public.orders_cluster");
        await OrdersTable.CreateAsync(sync.Destination, "public.orders_cluster");
        await OrdersTable.SeedAsync(sync.Source, "public.orders_cluster", 1, Rows);
        sync.WriteJob("orders_cluster.yml", OrdersTable.Job("orders-cluster", "orders_cluster", BatchSize));
        await sync.StartAsync();

        // The node that leads load-batch: its loss moves the queue's leadership as well as connections.
        var leaders = await cluster.LeadersAsync();
        var node = leaders.GetValueOrDefault("load-batch", 1);

        var runId = await sync.StartRunAsync("orders-cluster");
        var loaded = 0;
        var deadline = DateTime.UtcNow.AddMinutes(3);
        while (loaded < Batches / 20 && DateTime.UtcNow < deadline)
        {
            loaded = (await sync.GetRunAsync(runId))?.LoadedBatches ?? 0;
            await Task.Delay(50);
        }

        await cluster.KillNodeAsync(node);
        var atKill = (await sync.GetRunAsync(runId))!.LoadedBatches;
        output.WriteLine($"node {node} killed at {atKill} of {Batches} batches, {clock.Elapsed.TotalSeconds:F0} s in; leaders: {string.Join(", ", leaders)}");
        Assert.True(atKill < Batches, $"the run had loaded every batch ({atKill}) before node {node} was killed: nothing was tested");

        var run = await sync.WaitForRunAsync(runId, TimeSpan.FromMinutes(5));
        output.WriteLine($"run {run.State} {clock.Elapsed.TotalSeconds:F0} s in");

        Assert.True(run.State == "Completed", $"{run}\n{sync.Logs()}");
        Assert.Equal(Batches, run.ExpectedBatches);
        Assert.Equal(Batches, run.LoadedBatches);
        Assert.Equal((long)Rows, run.Processed);
        Assert.Equal((long)Rows, run.Inserted);
        Assert.Equal(0L, run.Updated + run.Skipped + run.Errors);
        Assert.Equal(await OrdersTable.DigestAsync(sync.Source, "public.orders_cluster"), await OrdersTable.DigestAsync(sync.Destination, "public.orders_cluster"));

        // Once each: one applied-batches row per batch, their rows adding up to the source, and one
        // batch row per batch in the Coordinator's count.
        Assert.Equal((long)Batches, await OrdersTable.ScalarAsync(sync.Destination,
            "SELECT count(DISTINCT batch_seq) FROM sync.applied_batches WHERE run_id = $1", runId));
        Assert.Equal((long)Batches, await OrdersTable.ScalarAsync(sync.Destination,
            "SELECT count(*) FROM sync.applied_batches WHERE run_id = $1", runId));
        Assert.Equal((long)Rows, await OrdersTable.ScalarAsync(sync.Destination,
            "SELECT sum(rows) FROM sync.applied_batches WHERE run_id = $1", runId));
        Assert.Equal((long)Batches, await OrdersTable.ScalarAsync(sync.Control,
            "SELECT count(*) FROM sync_run_batches WHERE run_id = $1", runId));
    }
}
