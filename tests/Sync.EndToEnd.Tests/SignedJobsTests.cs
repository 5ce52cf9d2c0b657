using System.Buffers.Binary;
using System.Text;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.EndToEnd.Tests.Failures;
using Sync.EndToEnd.Tests.Infrastructure;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Sync.Messaging.Signing;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// The broker is no back door (issue 20, item 3): a broker client without the installation's job
/// signing key publishes stage messages of its own making straight to the four real services, an
/// ExtractBatches that copies a table no job reads into one no job writes, and a LoadBatch that
/// writes that table, and nothing runs; a signed run beside them works as ever.
/// </summary>
public sealed class SignedJobsTests
{
    [Fact]
    public async Task Forged_stage_messages_read_and_write_nothing_and_a_signed_run_still_loads()
    {
        await using var sync = await SyncDeployment.CreateAsync("signed");
        await OrdersTable.CreateAsync(sync.Source, "orders");
        await OrdersTable.CreateAsync(sync.Destination, "orders");
        await OrdersTable.SeedAsync(sync.Source, "orders", 1, 500);
        await OrdersTable.ExecuteAsync(sync.Source, """
            CREATE TABLE secrets (id bigint PRIMARY KEY, secret text NOT NULL, updated_at timestamptz NOT NULL);
            INSERT INTO secrets SELECT g, 'password ' || g, now() FROM generate_series(1, 10) g;
            """);
        await OrdersTable.ExecuteAsync(sync.Destination, "CREATE TABLE stolen (id bigint PRIMARY KEY, secret text, updated_at timestamptz)");
        sync.WriteJob("orders.yml", OrdersTable.Job("orders", "orders"));
        await sync.StartAsync();
        await using var attacker = await BusProbe.StartAsync(sync);

        // Fence 0: the Extractor asks the Coordinator for no fence, so nothing but the signature stands in the way.
        var forgedJob = StolenSecrets();
        await attacker.PublishForgedAsync(new ExtractBatches(Guid.NewGuid(), forgedJob.Name, forgedJob, After: null), signature: null);
        var load = new LoadBatch(Guid.NewGuid(), forgedJob.Name, Guid.NewGuid(), 1, forgedJob, OneRow(666, "written by the attacker"), 0);
        var guessedKey = new JobSigner("a-key-the-attacker-made-up-0123456789abcdef");
        await attacker.PublishForgedAsync(load, guessedKey.Sign(load));
        await WaitUntilRefusedAsync(sync);

        var run = await sync.RunAsync("orders");

        Assert.True(run.State == "Completed", run.FailureReason);
        Assert.Equal(await OrdersTable.DigestAsync(sync.Source, "orders"), await OrdersTable.DigestAsync(sync.Destination, "orders"));
        Assert.Equal(0L, await OrdersTable.CountAsync(sync.Destination, "stolen"));
        Assert.Equal(0L, await OrdersTable.ScalarAsync(sync.Destination, "SELECT count(*) FROM sync.applied_batches WHERE run_id <> $1", run.RunId));
        Assert.Equal(1L, await OrdersTable.ScalarAsync(sync.Control, "SELECT count(*) FROM sync_runs"));
        Assert.Equal(1L, await OrdersTable.ScalarAsync(sync.Control, "SELECT count(*) FROM sync_metrics"));
        // Nor is a refusal reported as a failure of the run the forger named (it may be anyone's).
        Assert.Equal(0L, await OrdersTable.ScalarAsync(sync.Control, "SELECT count(*) FROM dead_letters"));
        // Refused, not retried: each forged message lies once in its stage's error queue.
        Assert.Equal(1u, await DepthAsync(sync, "extract-batches_error"));
        Assert.Equal(1u, await DepthAsync(sync, "load-batch_error"));
    }

    /// <summary>Waits for both forged messages in their error queues; after a minute, fails with what the forgery did.</summary>
    private static async Task WaitUntilRefusedAsync(SyncDeployment sync)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (await DepthAsync(sync, "extract-batches_error") + await DepthAsync(sync, "load-batch_error") < 2)
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException(
                    $"The forged messages were not refused; the table stolen holds {await OrdersTable.CountAsync(sync.Destination, "stolen")} rows.\n{sync.Logs()}");
            }

            await Task.Delay(200);
        }
    }

    // Through AMQP (a passive declare counts the queue's ready messages), not rabbitmqctl.
    private static async Task<uint> DepthAsync(SyncDeployment sync, string queue)
    {
        var factory = new ConnectionFactory
        {
            HostName = TestInfrastructure.RabbitHost,
            Port = TestInfrastructure.RabbitPort,
            UserName = TestInfrastructure.RabbitUser,
            Password = TestInfrastructure.RabbitPassword,
            VirtualHost = sync.Id,
        };
        await using var connection = await factory.CreateConnectionAsync();
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

    /// <summary>A job no job file holds: the source's secrets table, through a query, into the destination's stolen table.</summary>
    private static JobSpec StolenSecrets() => new(
        "orders",
        new SourceSpec(SourceKind.Postgres, "source", "", "updated_at", ["id"], Query: "SELECT id, secret, updated_at FROM secrets"),
        new TransformSpec([new ColumnMapping("id", "id"), new ColumnMapping("secret", "secret"), new ColumnMapping("updated_at", "updated_at")]),
        new DestinationSpec(DestinationKind.Postgres, "destination", "public.stolen", ["id"]),
        BatchSize: 1000,
        Schedule: null);

    /// <summary>One row (id bigint, secret text) as PostgreSQL binary COPY tuples (<see cref="RecordBatch"/>).</summary>
    private static RecordBatch OneRow(long id, string secret)
    {
        var text = Encoding.UTF8.GetBytes(secret);
        var row = new byte[2 + 4 + 8 + 4 + text.Length];
        BinaryPrimitives.WriteInt16BigEndian(row, 2);
        BinaryPrimitives.WriteInt32BigEndian(row.AsSpan(2), 8);
        BinaryPrimitives.WriteInt64BigEndian(row.AsSpan(6), id);
        BinaryPrimitives.WriteInt32BigEndian(row.AsSpan(14), text.Length);
        text.CopyTo(row, 18);
        return new RecordBatch([new BatchColumn("id", 20), new BatchColumn("secret", 25)], 1, row);
    }
}
