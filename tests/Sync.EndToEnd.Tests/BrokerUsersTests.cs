using System.Text;
using System.Text.Json.Nodes;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;
using Sync.EndToEnd.Tests.Infrastructure;
using Sync.Messaging.Serialization;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// One broker user per service with the least permissions it needs (deploy/rabbitmq/permissions.tsv,
/// issue 20): the four services run a job on them, each given its password only as a file, and the
/// broker refuses the Extractor's user a LoadBatch by any way into the Loader's queue.
/// </summary>
public sealed class BrokerUsersTests
{
    private const int Rows = 1_500;
    private const string Table = "orders_users";
    private const string CopyQueue = "test-load-batch-copy";

    [Fact]
    public async Task The_services_run_a_job_on_their_own_broker_users_with_passwords_from_files_and_the_extractors_user_cannot_publish_a_load_batch()
    {
        await using var deployment = await SyncDeployment.CreateAsync("brokerusers");
        deployment.UseBrokerUsers = true;
        await OrdersTable.CreateAsync(deployment.Source, Table);
        await OrdersTable.CreateAsync(deployment.Destination, Table);
        await OrdersTable.SeedAsync(deployment.Source, Table, 1, Rows);
        deployment.WriteJob($"{Table}.yml", OrdersTable.Job("orders-users", Table, batchSize: 500));
        // A copy of every LoadBatch the Transformer publishes, in a queue of the test's own (the administrator's).
        await using var admin = await ConnectAsync(deployment, TestInfrastructure.RabbitUser, TestInfrastructure.RabbitPassword);
        await using (var channel = await admin.CreateChannelAsync())
        {
            await channel.ExchangeDeclareAsync("Sync.Contracts:LoadBatch", ExchangeType.Fanout, durable: true, autoDelete: false);
            await channel.QueueDeclareAsync(CopyQueue, durable: false, exclusive: false, autoDelete: false);
            await channel.QueueBindAsync(CopyQueue, "Sync.Contracts:LoadBatch", string.Empty);
        }

        // RabbitMq__Password_FILE is each service's only password: a start without it would not reach the broker.
        await deployment.StartAsync();
        var run = await deployment.RunAsync("orders-users");

        Assert.True(run.State == "Completed", $"{run}\n{deployment.Logs()}");
        Assert.Equal(await OrdersTable.DigestAsync(deployment.Source, Table), await OrdersTable.DigestAsync(deployment.Destination, Table));
        // A request and its response: the Coordinator publishes VerifyJob, the Extractor answers on the Coordinator's bus queue.
        using (var verify = await deployment.Http.PostAsync("/api/jobs/orders-users/verify", content: null))
        {
            var body = await verify.Content.ReadAsStringAsync();
            Assert.True(verify.IsSuccessStatusCode, body + deployment.Logs());
            Assert.Equal(0, JsonNode.Parse(body)!["exitCode"]!.GetValue<int>());
        }

        var connections = await TestInfrastructure.RabbitMqCtlAsync("list_connections", "-q", "--no-table-headers", "vhost", "user");
        foreach (var service in new[] { "Coordinator", "Extractor", "Transformer", "Loader" })
        {
            Assert.Contains($"{deployment.Id}\t{deployment.BrokerUser(service).User}", connections, StringComparison.Ordinal);
        }

        // A real LoadBatch, made a new batch of the run (the Loader would apply it), and the destination emptied.
        byte[] forged;
        BasicProperties properties;
        await using (var channel = await admin.CreateChannelAsync())
        {
            var copy = await channel.BasicGetAsync(CopyQueue, autoAck: true) ?? throw new InvalidOperationException("No LoadBatch was copied.");
            // A batch travels as its rows' bytes after the JSON envelope (BatchBodySerializer): only the envelope changes.
            forged = BatchBodySerializer.EditEnvelope(copy.Body.ToArray(), json =>
            {
                var envelope = JsonNode.Parse(json.Span)!.AsObject();
                envelope["messageId"] = Guid.NewGuid().ToString();
                envelope["message"]!["batchSeq"] = 1_000;
                return Encoding.UTF8.GetBytes(envelope.ToJsonString());
            });
            properties = new BasicProperties { ContentType = copy.BasicProperties.ContentType, Persistent = true, Headers = copy.BasicProperties.Headers };
            await channel.QueueDeleteAsync(CopyQueue);
        }

        await OrdersTable.ExecuteAsync(deployment.Destination, $"TRUNCATE {Table}");

        // The Extractor's user: not through the message exchange, the Loader's endpoint exchange, nor the default exchange.
        var (extractorUser, extractorPassword) = deployment.BrokerUser("Extractor");
        await using (var extractor = await ConnectAsync(deployment, extractorUser, extractorPassword))
        {
            foreach (var (exchange, routingKey) in new[] { ("Sync.Contracts:LoadBatch", ""), ("load-batch", ""), ("", "load-batch") })
            {
                var refused = await PublishAsync(extractor, exchange, routingKey, properties, forged);
                Assert.True(refused?.ReplyCode == 403, $"publishing to '{exchange}' ({routingKey}) as the Extractor: {refused?.ToString() ?? "accepted"}");
                Assert.Contains("ACCESS_REFUSED", refused!.ReplyText, StringComparison.Ordinal);
            }
        }

        await BrokerQueues.WaitUntilDrainedAsync(deployment);
        Assert.Equal(0L, await OrdersTable.CountAsync(deployment.Destination, Table));

        // The same message from the Transformer's user, which publishes LoadBatch: the Loader applies it.
        var (transformerUser, transformerPassword) = deployment.BrokerUser("Transformer");
        await using (var transformer = await ConnectAsync(deployment, transformerUser, transformerPassword))
        {
            Assert.Null(await PublishAsync(transformer, "Sync.Contracts:LoadBatch", string.Empty, properties, forged));
        }

        await BrokerQueues.WaitUntilDrainedAsync(deployment);
        Assert.Equal(500L, await OrdersTable.CountAsync(deployment.Destination, Table));
    }

    private static Task<IConnection> ConnectAsync(SyncDeployment deployment, string user, string password) =>
        new ConnectionFactory
        {
            HostName = TestInfrastructure.RabbitHost,
            Port = TestInfrastructure.RabbitPort,
            VirtualHost = deployment.Id,
            UserName = user,
            Password = password,
            ClientProvidedName = "test-broker-users",
        }.CreateConnectionAsync();

    /// <summary>Publishes with confirms on a channel of its own; the broker's refusal (it closes the channel), or null once confirmed.</summary>
    private static async Task<ShutdownEventArgs?> PublishAsync(IConnection connection, string exchange, string routingKey, BasicProperties properties, byte[] body)
    {
        await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        try
        {
            await channel.BasicPublishAsync(exchange, routingKey, mandatory: true, properties, body);
            return null;
        }
        catch (Exception exception) when (exception is OperationInterruptedException or AlreadyClosedException or PublishException)
        {
            return channel.CloseReason ?? (exception as OperationInterruptedException)?.ShutdownReason;
        }
    }
}
