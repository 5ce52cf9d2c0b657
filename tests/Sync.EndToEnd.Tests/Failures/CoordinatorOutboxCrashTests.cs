using MassTransit;
using Npgsql;
using Sync.Contracts;
using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// The window the in-memory outbox lost: the Coordinator is killed after the saga's transaction
/// committed and before its command reached the broker. The kill is made to land there: the
/// saga is held on a table lock until the broker blocks publishers (a memory alarm), then
/// released; it commits, its send blocks, and the test kills it once the inbox row says consumed.
/// </summary>
[Collection(ExclusiveInfrastructure.Name)]
[Trait("Category", ExclusiveInfrastructure.Category)]
public sealed class CoordinatorOutboxCrashTests(ITestOutputHelper output)
{
    private const int Rows = 4_000;

    [Fact]
    public async Task Coordinator_killed_between_the_saga_commit_and_its_send_sends_it_after_restart()
    {
        await using var sync = await OrdersSync.CreateAsync("obcrash", Rows, output);
        // The run must survive the blocked broker and the restart without the run timeout ending it.
        sync.Deployment.SetEnvironment("Coordinator__RunTimeout", "00:10:00");
        await sync.StartAndLoadAsync();
        var committed = await sync.WatermarkAsync();
        var changed = await sync.ChangeSourceAsync(Rows / 4);
        await using var probe = await BusProbe.StartAsync(sync.Deployment);
        var runId = NewId.NextGuid();
        var start = new Seen<StartSyncRun>(new StartSyncRun(runId, sync.Job, "test", DateTimeOffset.UtcNow), NewId.NextGuid());
        var messageId = start.MessageId!.Value;

        await using (var hold = new NpgsqlConnection(sync.Deployment.Control))
        {
            await hold.OpenAsync();
            await using var transaction = await hold.BeginTransactionAsync();
            await using (var lockTable = new NpgsqlCommand("LOCK TABLE sync_watermarks IN ACCESS EXCLUSIVE MODE", hold, transaction))
            {
                await lockTable.ExecuteNonQueryAsync();
            }

            await probe.PublishAgainAsync(start);
            // BeginRunActivity reads the watermark inside the saga's pass: it waits on the lock.
            await WaitUntilAsync(
                async () => Convert.ToInt64(await OrdersTable.ScalarAsync(sync.Deployment.Control,
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'sync_watermarks' AND NOT l.granted")) > 0,
                "the saga's pass to wait on sync_watermarks", sync);
            await TestInfrastructure.RabbitMqCtlAsync("set_vm_memory_high_watermark", "0");
            await Task.Delay(2000);
            await transaction.CommitAsync();
        }

        try
        {
            await WaitUntilAsync(async () => await InboxConsumedAsync(sync, messageId) is true, "the saga's pass to commit", sync);
            await sync.Deployment.KillServiceAsync("Coordinator");
        }
        finally
        {
            await TestInfrastructure.RabbitMqCtlAsync("set_vm_memory_high_watermark", "0.4");
        }

        // Dead Coordinator: the run and its ExtractBatches are committed, the command never left.
        Assert.False(await InboxDeliveredAsync(sync, messageId));
        var pending = Convert.ToInt64(await OrdersTable.ScalarAsync(sync.Deployment.Control, "SELECT count(*) FROM outbox_message WHERE inbox_message_id = $1", messageId));
        Assert.True(pending >= 1, "the saga's ExtractBatches is in the outbox");
        Assert.Equal("Extracting", await OrdersTable.ScalarAsync(sync.Deployment.Control, "SELECT current_state FROM sync_runs WHERE correlation_id = $1", runId));
        output.WriteLine($"Killed with {pending} outbox message(s) of StartSyncRun {messageId} committed and unsent");

        await sync.Deployment.StartServiceAsync("Coordinator");
        var run = await sync.Deployment.WaitForRunAsync(runId, TimeSpan.FromMinutes(3));

        Assert.Equal("Completed", run.State);
        Assert.True(await InboxDeliveredAsync(sync, messageId));
        Assert.Equal(0L, await OrdersTable.ScalarAsync(sync.Deployment.Control, "SELECT count(*) FROM outbox_message WHERE inbox_message_id = $1", messageId));
        Assert.Equal(changed, run.Processed);
        Assert.NotEqual(committed, await sync.WatermarkAsync());
        await sync.AssertWatermarkAtSourceMaxAsync();
        Assert.Equal(await OrdersTable.DigestAsync(sync.Deployment.Source, sync.Table), await OrdersTable.DigestAsync(sync.Deployment.Destination, sync.Table));
    }

    private static async Task<bool?> InboxConsumedAsync(OrdersSync sync, Guid messageId) =>
        await OrdersTable.ScalarAsync(sync.Deployment.Control, "SELECT bool_or(consumed IS NOT NULL) FROM inbox_state WHERE message_id = $1", messageId) is bool consumed ? consumed : null;

    private static async Task<bool> InboxDeliveredAsync(OrdersSync sync, Guid messageId) =>
        await OrdersTable.ScalarAsync(sync.Deployment.Control, "SELECT bool_or(delivered IS NOT NULL) FROM inbox_state WHERE message_id = $1", messageId) is true;

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, OrdersSync sync)
    {
        var deadline = DateTime.UtcNow.AddMinutes(1);
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"Waited a minute for {what}.\n{sync.Deployment.Logs()}");
            }

            await Task.Delay(20);
        }
    }
}
