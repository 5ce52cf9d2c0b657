using RabbitMQ.Client;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// KEDA's RabbitMQ trigger (deploy/kubernetes/base/keda.yaml, AMQP mode) reads a stage queue's depth
/// with a passive declare; the README has its broker user made with no permission at all
/// (<c>'^$' '^$' '^$'</c>). That this is enough, on the services' real queues, is what this checks.
/// </summary>
public sealed class KedaBrokerUserTests
{
    [Fact]
    public async Task A_broker_user_without_permissions_reads_the_depth_of_every_stage_queue()
    {
        await using var deployment = await SyncDeployment.CreateAsync("kedauser");
        // The services declare their queues as they start.
        await deployment.StartAsync();
        var user = $"{deployment.Id}-keda";
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));
        await TestInfrastructure.CreateBrokerUserAsync(user, password, deployment.Id, new BrokerPermissions("^$", "^$", "^$"));
        try
        {
            await using var connection = await new ConnectionFactory
            {
                HostName = TestInfrastructure.RabbitHost,
                Port = TestInfrastructure.RabbitPort,
                VirtualHost = deployment.Id,
                UserName = user,
                Password = password,
                ClientProvidedName = "test-keda-user",
            }.CreateConnectionAsync();
            foreach (var queue in new[] { "extract-batches", "transform-batch", "load-batch" })
            {
                await using var channel = await connection.CreateChannelAsync();
                var declared = await channel.QueueDeclarePassiveAsync(queue);
                Assert.Equal((queue, 0u), (declared.QueueName, declared.MessageCount));
            }
        }
        finally
        {
            await TestInfrastructure.DeleteBrokerUserAsync(user);
        }
    }
}
