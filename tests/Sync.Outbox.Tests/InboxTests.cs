using System.Collections.Concurrent;
using System.Diagnostics;
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
    public async Task A_message_whose_consumer_sends_nothing_takes_two_commands_in_one_transaction()
    {
        // Issue 16: the Coordinator books every BatchLoaded this way. MassTransit's design inserts the
        // inbox row in a transaction of its own and locks it in a second pass (four commands, two commits).
        var host = await StartHostAsync();
        var orderId = Guid.NewGuid();
        var messageId = NewId.NextGuid();
        var commands = new ConcurrentQueue<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            // This database's commands only (not the opening of a connection), the test's own look at the inbox left out.
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("db.namespace") as string == Database && activity.GetTagItem("db.query.text") is string statement
                    && !statement.Contains("receive_count, consumed IS NOT NULL", StringComparison.Ordinal))
                {
                    commands.Enqueue(statement);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        await host.PublishAsync(new RecordOrder(orderId, Publishes: 0), messageId);
        await WaitUntilAsync(async () => await InboxAsync(messageId) is { Delivered: true }, "the message to be consumed");

        // The inbox row inserted (or locked) and returned; then the order row and the inbox row's update, one batch.
        Assert.True(commands.Count == 2, $"{commands.Count} commands: {string.Join(" | ", commands)}");
        Assert.Equal(new InboxRow(1, true, true, null), await InboxAsync(messageId));
        Assert.Equal(1, await CountAsync("SELECT count(*) FROM orders WHERE id = $1", orderId));
    }

    [Fact]
    public async Task A_message_whose_consumer_always_fails_leaves_no_inbox_row()
    {
        // The row is inserted in the pass that runs the consumer, so the failed pass takes it back
        // with the rest: nothing is left for the cleanup's longer window (OUTBOX.md, gap 1).
        var host = await StartHostAsync(retries: 1);
        var orderId = Guid.NewGuid();
        var messageId = NewId.NextGuid();

        await host.PublishAsync(new RecordOrder(orderId, Publishes: 1, FailTimes: 100), messageId);
        await WaitUntilAsync(() => Task.FromResult(Log.AttemptsOf(orderId) >= 2), "both attempts");
        await Task.Delay(500);

        Assert.Null(await InboxAsync(messageId));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM orders WHERE id = $1", orderId));
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
