using MassTransit;
using Sync.Outbox.Tests.Infrastructure;

namespace Sync.Outbox.Tests;

/// <summary>The consumer path: one inbox row per (message, consumer), the consumer's data and sends in its transaction.</summary>
public sealed class InboxTests : OutboxStorageTestBase
{
    [Fact]
    public async Task A_message_delivered_twice_is_consumed_once()
    {
        var host = await StartHostAsync();
        var orderId = Guid.NewGuid();
        var messageId = NewId.NextGuid();

        await host.PublishAsync(new RecordOrder(orderId, Publishes: 3), messageId);
        await WaitUntilAsync(async () => await InboxAsync(messageId) is { Delivered: true } && Log.ReceivedSeqs(orderId).Count == 3, "the first delivery");
        await host.PublishAsync(new RecordOrder(orderId, Publishes: 3), messageId);
        await WaitUntilAsync(async () => await InboxAsync(messageId) is { ReceiveCount: >= 4 }, "the duplicate to reach the inbox");
        await Task.Delay(500);

        Assert.Equal(1, Log.AttemptsOf(orderId));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM orders WHERE id = $1", orderId));
        Assert.Equal([1, 2, 3], Log.ReceivedSeqs(orderId));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM inbox_state WHERE message_id = $1", messageId));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM outbox_message"));
    }

    [Fact]
    public async Task Duplicates_arriving_at_the_same_moment_run_the_consumer_once()
    {
        var host = await StartHostAsync();
        var orderId = Guid.NewGuid();
        var messageId = NewId.NextGuid();

        await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => host.PublishAsync(new RecordOrder(orderId, Publishes: 1), messageId)));
        await WaitUntilAsync(async () => await InboxAsync(messageId) is { Delivered: true, ReceiveCount: >= 8 }, "all six deliveries");
        await Task.Delay(500);

        Assert.Equal(1, Log.AttemptsOf(orderId));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM orders WHERE id = $1", orderId));
        Assert.Equal([1], Log.ReceivedSeqs(orderId));
    }

    [Fact]
    public async Task A_failed_attempt_rolls_back_its_row_and_its_sends_and_the_retry_runs_again()
    {
        var host = await StartHostAsync(retries: 2);
        var orderId = Guid.NewGuid();
        var messageId = NewId.NextGuid();

        await host.PublishAsync(new RecordOrder(orderId, Publishes: 2, FailTimes: 1), messageId);
        await WaitUntilAsync(async () => await InboxAsync(messageId) is { Delivered: true }, "the retried message to be delivered");
        await Task.Delay(500);

        Assert.Equal(2, Log.AttemptsOf(orderId));
        // The row is the second attempt's; the first attempt's row and events never committed.
        Assert.Equal(2, await CountAsync("SELECT attempt FROM orders WHERE id = $1", orderId));
        Assert.Equal([1, 2], Log.ReceivedSeqs(orderId));
    }

    [Fact]
    public async Task A_message_that_failed_and_came_back_through_the_delay_queue_runs_again()
    {
        // Sync's delayed redelivery sends the same body, with the same MessageId, to a delay queue;
        // the failed pass rolled back, so the inbox row is not consumed and the message runs again.
        var host = await StartHostAsync();
        var orderId = Guid.NewGuid();
        var messageId = NewId.NextGuid();

        await host.PublishAsync(new RecordOrder(orderId, Publishes: 2, FailTimes: 2), messageId);
        await WaitUntilAsync(async () => await InboxAsync(messageId) is { Delivered: true }, "the message to come back twice and succeed");
        await Task.Delay(500);

        Assert.Equal(3, Log.AttemptsOf(orderId));
        Assert.Equal(3, await CountAsync("SELECT attempt FROM orders WHERE id = $1", orderId));
        Assert.Equal([1, 2], Log.ReceivedSeqs(orderId));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM inbox_state WHERE message_id = $1", messageId));
    }
}
