using MassTransit;
using Sync.Contracts;
using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// I6 at the Coordinator: the run saga sits behind the Postgres inbox, so a message delivered
/// again under its message id is recognised in inbox_state and the saga does not see it twice.
/// </summary>
public sealed class CoordinatorInboxTests(ITestOutputHelper output)
{
    private const int Rows = 4_000;

    [Fact]
    public async Task Start_sync_run_delivered_twice_under_one_message_id_starts_one_run()
    {
        await using var sync = await OrdersSync.CreateAsync("inboxstart", Rows, output);
        await sync.StartAndLoadAsync();
        await using var probe = await BusProbe.StartAsync(sync.Deployment);
        var changed = await sync.ChangeSourceAsync(Rows / 4);

        var runId = NewId.NextGuid();
        var start = new Seen<StartSyncRun>(new StartSyncRun(runId, sync.Job, "test", DateTimeOffset.UtcNow), NewId.NextGuid());
        await probe.PublishAgainAsync(start);
        await WaitForInboxAsync(sync, start.MessageId!.Value, row => row.Delivered);
        // Again while the run is active: without the inbox the saga would get a second RunRequested in Extracting.
        await probe.PublishAgainAsync(start);
        var run = await sync.Deployment.WaitForRunAsync(runId);
        await WaitForInboxAsync(sync, start.MessageId!.Value, row => row.ReceiveCount >= 4);
        await BrokerQueues.WaitUntilDrainedAsync(sync.Deployment);

        Assert.Equal("Completed", run.State);
        var inbox = await InboxAsync(sync, start.MessageId!.Value);
        Assert.Single(inbox);
        Assert.True(inbox[0].Consumed && inbox[0].Delivered, $"inbox row {inbox[0]}");
        // One ExtractBatches: every batch came from one extraction.
        Assert.Single(probe.TransformBatches(runId).Select(b => b.Message.ExtractionId).Distinct());
        Assert.Equal(1L, await OrdersTable.ScalarAsync(sync.Deployment.Control, "SELECT count(*) FROM sync_metrics WHERE run_id = $1", runId));
        Assert.Equal(changed, run.Processed);
        Assert.Equal(string.Empty, await BrokerQueues.DeadLetteredAsync(sync.Deployment));
        // Everything the saga sent went out and its outbox rows are gone.
        Assert.Equal(0L, await OrdersTable.ScalarAsync(sync.Deployment.Control, "SELECT count(*) FROM outbox_message"));
        Assert.Equal(0L, await OrdersTable.ScalarAsync(sync.Deployment.Control, "SELECT count(*) FROM outbox_state"));
    }

    [Fact]
    public async Task Batch_loaded_delivered_again_is_dropped_by_the_inbox_and_the_run_counts_it_once()
    {
        await using var sync = await OrdersSync.CreateAsync("inboxloaded", Rows, output);
        await sync.StartAndLoadAsync();
        await using var probe = await BusProbe.StartAsync(sync.Deployment);
        var changed = await sync.ChangeSourceAsync(Rows / 2);
        var run = await sync.Deployment.RunAsync(sync.Job);
        Assert.Equal("Completed", run.State);
        await BusProbe.WaitUntilAsync(() => probe.BatchesLoaded(run.RunId).Count >= run.ExpectedBatches, () => "the probe missed BatchLoaded messages");
        var copy = probe.BatchesLoaded(run.RunId)[0];
        var before = await InboxAsync(sync, copy.MessageId!.Value);

        await probe.PublishAgainAsync(copy);
        await WaitForInboxAsync(sync, copy.MessageId!.Value, row => row.ReceiveCount > before.Single().ReceiveCount);
        await BrokerQueues.WaitUntilDrainedAsync(sync.Deployment);

        var after = await InboxAsync(sync, copy.MessageId!.Value);
        Assert.Single(after);
        Assert.True(after[0].Consumed && after[0].Delivered);
        Assert.Equal(before[0] with { ReceiveCount = after[0].ReceiveCount }, after[0]);
        Assert.Equal(run, await sync.Deployment.GetRunAsync(run.RunId));
        Assert.Equal(changed, run.Processed);
        Assert.Equal((long)run.ExpectedBatches!, await sync.LoadedBatchesAsync(run.RunId));
    }

    private static async Task WaitForInboxAsync(OrdersSync sync, Guid messageId, Func<InboxRow, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!(await InboxAsync(sync, messageId)).Any(condition))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"inbox_state of {messageId}: {string.Join(", ", await InboxAsync(sync, messageId))}\n{sync.Deployment.Logs()}");
            }

            await Task.Delay(50);
        }
    }

    private static async Task<List<InboxRow>> InboxAsync(OrdersSync sync, Guid messageId)
    {
        await using var connection = new Npgsql.NpgsqlConnection(sync.Deployment.Control);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            "SELECT consumer_id, receive_count, consumed IS NOT NULL, delivered IS NOT NULL FROM inbox_state WHERE message_id = $1", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = messageId });
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<InboxRow>();
        while (await reader.ReadAsync())
        {
            rows.Add(new InboxRow(reader.GetGuid(0), reader.GetInt32(1), reader.GetBoolean(2), reader.GetBoolean(3)));
        }

        return rows;
    }

    private sealed record InboxRow(Guid ConsumerId, int ReceiveCount, bool Consumed, bool Delivered);
}
