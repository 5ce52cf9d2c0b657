using MassTransit;
using Microsoft.Extensions.DependencyInjection;
using Sync.Outbox.Tests.Infrastructure;

namespace Sync.Outbox.Tests;

/// <summary>Delivery: the bus outbox commits with the caller's data and goes out in order; what a dead process committed goes out from the next one.</summary>
public sealed class OutboxDeliveryTests : OutboxStorageTestBase
{
    [Fact]
    public async Task Bus_outbox_messages_exist_only_once_committed_and_go_out_in_order_advancing_last_sequence_number()
    {
        var host = await StartHostAsync(settings: new Dictionary<string, string?> { ["Outbox:MessageDeliveryLimit"] = "4" });
        var orderId = Guid.NewGuid();

        // Published, then the unit of work is abandoned: nothing is left and nothing is sent.
        await using (var scope = host.Services.CreateAsyncScope())
        {
            var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
            scope.ServiceProvider.GetRequiredService<TestDbContext>().Orders.Add(new RecordedOrder { Id = Guid.NewGuid(), Attempt = 1 });
            await publish.Publish(new OrderRecorded(orderId, 0));
        }

        Assert.Equal(0, await CountAsync("SELECT count(*) FROM outbox_message"));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM orders"));

        await using (var scope = host.Services.CreateAsyncScope())
        {
            var publish = scope.ServiceProvider.GetRequiredService<IPublishEndpoint>();
            var dbContext = scope.ServiceProvider.GetRequiredService<TestDbContext>();
            dbContext.Orders.Add(new RecordedOrder { Id = orderId, Attempt = 1 });
            for (var seq = 1; seq <= 10; seq++)
            {
                await publish.Publish(new OrderRecorded(orderId, seq));
            }

            await dbContext.SaveChangesAsync();
        }

        Assert.Equal(1, await CountAsync("SELECT count(*) FROM orders"));
        Assert.Equal(10, await CountAsync("SELECT count(*) FROM outbox_message WHERE outbox_id IS NOT NULL"));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM outbox_state"));
        await Task.Delay(500);
        Assert.Empty(Log.ReceivedSeqs(orderId));

        // A limit of 4 a round: 4, 4, then the last 2 and the unit is done.
        var delivery = host.DeliveryService();
        long? previous = null;
        for (var round = 1; round <= 2; round++)
        {
            Assert.True(await delivery.DeliverOneBusOutboxAsync(CancellationToken.None));
            var last = await CountAsync("SELECT last_sequence_number FROM outbox_state");
            Assert.True(previous is null || last > previous, $"last_sequence_number went from {previous} to {last}");
            Assert.Equal(10 - (4 * round), await CountAsync("SELECT count(*) FROM outbox_message"));
            previous = last;
        }

        Assert.True(await delivery.DeliverOneBusOutboxAsync(CancellationToken.None));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM outbox_state"));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM outbox_message"));
        await WaitUntilAsync(() => Task.FromResult(Log.ReceivedSeqs(orderId).Count == 10), "ten events at the collector");
        Assert.Equal(Enumerable.Range(1, 10), Log.ReceivedSeqs(orderId));
    }

    [Fact]
    public async Task The_running_delivery_service_is_woken_by_a_commit()
    {
        // A poll interval far longer than the test: only the commit's notification can wake it.
        var host = await StartHostAsync(backgroundServices: true, settings: new Dictionary<string, string?> { ["Outbox:PollInterval"] = "00:10:00" });
        await Task.Delay(1000);
        var orderId = Guid.NewGuid();
        await using (var scope = host.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<IPublishEndpoint>().Publish(new OrderRecorded(orderId, 1));
            await scope.ServiceProvider.GetRequiredService<TestDbContext>().SaveChangesAsync();
        }

        await WaitUntilAsync(() => Task.FromResult(Log.ReceivedSeqs(orderId).Count == 1), "the event, well before the poll interval", seconds: 20);
    }

    [Fact]
    public async Task Sends_committed_by_a_consumer_whose_delivery_never_happened_are_sent_by_a_fresh_delivery_service()
    {
        // The first delivery attempt fails after the commit (MassTransit's MT-Fail-Delivery), as
        // if the process died there; without retries the message ends in the error queue, so no
        // redelivery will ever deliver its outbox. A new process's delivery service does.
        var crashed = await StartHostAsync();
        var orderId = Guid.NewGuid();
        var messageId = NewId.NextGuid();
        await crashed.PublishAsync(new RecordOrder(orderId, Publishes: 3, FailDelivery: true), messageId);
        await WaitUntilAsync(async () => await CountAsync("SELECT count(*) FROM outbox_message WHERE inbox_message_id = $1", messageId) == 3, "the committed outbox rows");
        await Task.Delay(1000);
        await StopHostAsync(crashed);

        Assert.Equal(new InboxRow(1, Consumed: true, Delivered: false, LastSequenceNumber: null), await InboxAsync(messageId));
        Assert.Empty(Log.ReceivedSeqs(orderId));

        var restarted = await StartHostAsync();
        await Task.Delay(1100); // Outbox:StrandedDeliveryDelay is 1 s here.
        Assert.True(await restarted.DeliveryService().DeliverOneStrandedAsync(CancellationToken.None));

        await WaitUntilAsync(() => Task.FromResult(Log.ReceivedSeqs(orderId).Count == 3), "three events at the collector");
        Assert.Equal([1, 2, 3], Log.ReceivedSeqs(orderId));
        Assert.True((await InboxAsync(messageId))!.Delivered);
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM outbox_message"));
        Assert.Equal(1, Log.AttemptsOf(orderId));

        // The message replayed from the error queue later is a duplicate: nothing runs again.
        await restarted.PublishAsync(new RecordOrder(orderId, Publishes: 3, FailDelivery: true), messageId);
        await WaitUntilAsync(async () => await InboxAsync(messageId) is { ReceiveCount: >= 2 }, "the replay to reach the inbox");
        await Task.Delay(500);
        Assert.Equal(1, Log.AttemptsOf(orderId));
        Assert.Equal([1, 2, 3], Log.ReceivedSeqs(orderId));
    }

    [Fact]
    public async Task A_redelivered_message_whose_sends_were_committed_sends_them_without_running_the_consumer_again()
    {
        // With a retry the message comes back after the failed delivery, as the broker redelivers
        // an unacknowledged message to a restarted process: the pass finds the row consumed and
        // only delivers.
        var host = await StartHostAsync(retries: 1);
        var orderId = Guid.NewGuid();
        var messageId = NewId.NextGuid();

        await host.PublishAsync(new RecordOrder(orderId, Publishes: 3, FailDelivery: true), messageId);
        await WaitUntilAsync(async () => await InboxAsync(messageId) is { Delivered: true }, "the redelivered message to deliver its outbox");
        await WaitUntilAsync(() => Task.FromResult(Log.ReceivedSeqs(orderId).Count == 3), "three events at the collector");

        // The pass after the one that marked the row delivered removes its outbox rows.
        await WaitUntilAsync(async () => await CountAsync("SELECT count(*) FROM outbox_message") == 0, "the delivered outbox rows to be removed");
        Assert.Equal(1, Log.AttemptsOf(orderId));
        Assert.Equal([1, 2, 3], Log.ReceivedSeqs(orderId));
    }
}
