using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Sync.EndToEnd.Tests.Infrastructure;
using Sync.Messaging.Signing;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// A TransformBatch the Transformer cannot deserialize (a corrupted body, or one a rolling
/// upgrade's other version wrote) never reaches its consumer, so the stage retry never reports it;
/// its signed run headers do: the run fails at once naming the stage and the error queue, as for a
/// batch the stage gave up on, instead of waiting out the run timeout. Headers signed with another
/// key fail nobody's run.
/// </summary>
public sealed class UnreadableBatchTests
{
    private const string Queue = "transform-batch";

    [Fact]
    public async Task An_unreadable_batch_fails_its_run_at_once_and_is_dead_lettered()
    {
        await using var sync = await SyncDeployment.CreateAsync("unreadable");
        await OrdersTable.CreateAsync(sync.Source, "orders");
        await OrdersTable.CreateAsync(sync.Destination, "orders");
        await OrdersTable.SeedAsync(sync.Source, "orders", 1, 300);
        await SourceGate.CreateFunctionAsync(sync.Source);
        // The extraction waits before its first row, so the run is active and the only batch of it is the test's.
        sync.WriteJob("orders.yml", SlowExtractionTests.Fixture.QueryJob("orders", "orders", "SELECT * FROM orders WHERE test_source_gate(true)"));
        await sync.StartAsync();
        await using var gate = await SourceGate.CloseAsync(sync.Source);
        var runId = await sync.StartRunAsync("orders");
        await WaitForExtractingAsync(sync, runId);

        // A forger without the key names the run: the message goes to the error queue and the run carries on.
        var forger = new JobSigner("a-key-the-forger-made-up-0123456789abcdef");
        await PublishUnreadableAsync(sync, forger, runId);
        await WaitForDepthAsync(sync, $"{Queue}_error", 1);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var untouched = await sync.GetRunAsync(runId);
        Assert.True(untouched is { State: "Extracting" }, $"A forged unreadable batch ended the run: {untouched}");
        Assert.Equal(0L, await OrdersTable.ScalarAsync(sync.Control, "SELECT count(*) FROM dead_letters"));

        await PublishUnreadableAsync(sync, new JobSigner(sync.JobSigningKey), runId);
        var run = await sync.WaitForRunAsync(runId, TimeSpan.FromSeconds(60));

        Assert.Equal("Failed", run.State);
        Assert.Contains("transform stage", run.FailureReason);
        Assert.Contains($"{Queue}_error", run.FailureReason);
        Assert.Equal(1L, await OrdersTable.ScalarAsync(
            sync.Control,
            "SELECT count(*) FROM dead_letters WHERE kind = 'message' AND run_id = $1 AND batch_seq = 1 AND stage = 'transform' AND queue = $2",
            runId,
            Queue));
        await WaitForDepthAsync(sync, $"{Queue}_error", 2);
    }

    /// <summary>
    /// A body no deserializer reads, with the run headers the Extractor would give batch 1 of
    /// <paramref name="runId"/>, signed by <paramref name="signer"/>, straight to the Transformer's queue.
    /// </summary>
    private static async Task PublishUnreadableAsync(SyncDeployment sync, JobSigner signer, Guid runId)
    {
        var run = new RunHeaders(runId, "orders", 1, null);
        run = run with { Signature = signer.SignRun(run) };
        await using var connection = await ConnectAsync(sync);
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var properties = new BasicProperties
        {
            ContentType = "application/vnd.masstransit+json",
            MessageId = Guid.NewGuid().ToString(),
            Persistent = true,
            Headers = new Dictionary<string, object?>
            {
                [RunHeaders.RunIdHeader] = run.RunId.ToString(),
                [RunHeaders.JobHeader] = run.JobName,
                [RunHeaders.BatchSeqHeader] = "1",
                [RunHeaders.SignatureHeader] = run.Signature,
            },
        };
        await channel.BasicPublishAsync(string.Empty, Queue, mandatory: true, properties, Encoding.UTF8.GetBytes("{\"messageType\": [\"urn:message:Sync.Contracts:TransformBatch\"], \"message\": {\"runId\": "));
    }

    private static async Task WaitForExtractingAsync(SyncDeployment sync, Guid runId)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while ((await sync.GetRunAsync(runId))?.State != "Extracting")
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Run {runId} did not start extracting.\n{sync.Logs()}");
            }

            await Task.Delay(200);
        }
    }

    private static async Task WaitForDepthAsync(SyncDeployment sync, string queue, uint depth)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (await DepthAsync(sync, queue) < depth)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"{queue} did not reach {depth} messages.\n{sync.Logs()}");
            }

            await Task.Delay(200);
        }
    }

    private static async Task<uint> DepthAsync(SyncDeployment sync, string queue)
    {
        await using var connection = await ConnectAsync(sync);
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (OperationInterruptedException)
        {
            // MassTransit makes an error queue with its first message.
            return 0;
        }
    }

    private static Task<IConnection> ConnectAsync(SyncDeployment sync) => new ConnectionFactory
    {
        HostName = TestInfrastructure.RabbitHost,
        Port = TestInfrastructure.RabbitPort,
        UserName = TestInfrastructure.RabbitUser,
        Password = TestInfrastructure.RabbitPassword,
        VirtualHost = sync.Id,
    }.CreateConnectionAsync();
}
