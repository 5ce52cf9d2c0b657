using Microsoft.Extensions.DependencyInjection;
using Sync.Outbox.Cleanup;
using Sync.Outbox.Tests.Infrastructure;

namespace Sync.Outbox.Tests;

/// <summary>The sweep: delivered rows after the duplicate window, never-delivered ones (faulted messages) after the longer window by received.</summary>
public sealed class InboxCleanupTests : OutboxStorageTestBase
{
    [Fact]
    public async Task Cleanup_removes_rows_past_their_window_and_keeps_the_rest()
    {
        var host = await StartHostAsync(settings: new Dictionary<string, string?>
        {
            ["Outbox:DuplicateDetectionWindow"] = "00:30:00",
            ["Outbox:UndeliveredInboxWindow"] = "2.00:00:00",
        });
        var deliveredLongAgo = await InsertInboxAsync(received: "now() - interval '3 hours'", delivered: "now() - interval '31 minutes'");
        var deliveredRecently = await InsertInboxAsync(received: "now() - interval '3 hours'", delivered: "now() - interval '29 minutes'");
        var faultedLongAgo = await InsertInboxAsync(received: "now() - interval '3 days'", delivered: "NULL");
        var faultedRecently = await InsertInboxAsync(received: "now() - interval '1 day'", delivered: "NULL");
        await ExecuteAsync(
            """
            INSERT INTO outbox_message (message_id, content_type, message_type, body, sent_time, inbox_message_id, inbox_consumer_id)
            SELECT gen_random_uuid(), 'application/json', 'urn:message:x', '{}', now(), message_id, consumer_id FROM inbox_state WHERE message_id = $1
            """,
            faultedLongAgo);

        var sweep = ActivatorUtilities.CreateInstance<InboxCleanupService<TestDbContext>>(host.Services);
        Assert.Equal(2, await sweep.SweepAsync(DateTime.UtcNow, CancellationToken.None));
        Assert.Equal(0, await sweep.SweepAsync(DateTime.UtcNow, CancellationToken.None));

        Assert.Null(await InboxAsync(deliveredLongAgo));
        Assert.NotNull(await InboxAsync(deliveredRecently));
        Assert.Null(await InboxAsync(faultedLongAgo));
        Assert.NotNull(await InboxAsync(faultedRecently));
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM outbox_message"));
    }

    [Fact]
    public void An_undelivered_window_shorter_than_the_duplicate_window_is_refused()
    {
        var options = new OutboxOptions { DuplicateDetectionWindow = TimeSpan.FromHours(1), UndeliveredInboxWindow = TimeSpan.FromMinutes(10) };
        var errors = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();
        Assert.Contains(errors, e => e.ErrorMessage!.Contains("Outbox:UndeliveredInboxWindow", StringComparison.Ordinal));
    }

    private async Task<Guid> InsertInboxAsync(string received, string delivered)
    {
        var messageId = Guid.NewGuid();
        // The timestamps are fixed SQL expressions of this test, not values.
        await ExecuteAsync(
            $"""
            INSERT INTO inbox_state (message_id, consumer_id, lock_id, received, receive_count, consumed, delivered)
            VALUES ($1, gen_random_uuid(), gen_random_uuid(), {received}, 1, {received}, {delivered})
            """,
            messageId);
        return messageId;
    }
}
