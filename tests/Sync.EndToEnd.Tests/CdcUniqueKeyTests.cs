using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// A cdc job whose destination has a secondary unique index (email), through the four services
/// (issue 14, item 5): a delete that frees an email and an insert that takes it, in one source
/// transaction and so in one change batch, load without a dead letter. Before, the batch's upserts
/// went in before its deletes and the insert hit the index.
/// </summary>
public sealed class CdcUniqueKeyTests : IAsyncLifetime
{
    private const string Expected = "SELECT id, email FROM accounts";

    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncDeployment.CreateAsync("cdcuniq");
        _sync.SetEnvironment("Cdc__RunDuration", "00:00:03");
        await OrdersTable.ExecuteAsync(_sync.Source, """
            CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL UNIQUE);
            INSERT INTO accounts SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 100) g;
            """);
        await OrdersTable.ExecuteAsync(_sync.Destination, "CREATE TABLE accounts (id bigint PRIMARY KEY, email text UNIQUE)");
        _sync.WriteJob("accounts.yml", """
            name: accounts
            schedule: continuous
            batch_size: 200
            source: { type: postgres, connection: source, table: public.accounts, mode: cdc, primary_key: [id] }
            destination: { type: postgres, connection: destination, table: public.accounts }
            """);
        await _sync.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await using (_sync)
        {
            foreach (var service in new[] { "Coordinator", "Extractor" })
            {
                await _sync.KillServiceAsync(service);
            }

            await OrdersTable.ExecuteAsync(_sync.Source, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active");
        }
    }

    [Fact]
    public async Task A_delete_and_an_insert_of_its_email_in_one_transaction_load_without_a_dead_letter()
    {
        await WaitForEqualOrDeadLetterAsync();

        // Id 101 takes id 1's email after id 1 is deleted; id 102 takes id 3's after id 3 moves to another.
        await OrdersTable.ExecuteAsync(_sync.Source, """
            BEGIN;
            DELETE FROM accounts WHERE id = 1;
            INSERT INTO accounts VALUES (101, 'user1@example.com');
            UPDATE accounts SET email = 'user3@example.org' WHERE id = 3;
            INSERT INTO accounts VALUES (102, 'user3@example.com');
            COMMIT;
            """);

        await WaitForEqualOrDeadLetterAsync();
        Assert.Equal(0L, await DeadLettersAsync());
        Assert.Equal(await DigestAsync(_sync.Source), await DigestAsync(_sync.Destination));
    }

    // Until the destination equals the source, or a record became a dead letter (then the asserts say which).
    private async Task WaitForEqualOrDeadLetterAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (await DigestAsync(_sync.Source) != await DigestAsync(_sync.Destination) && await DeadLettersAsync() == 0)
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"accounts: {await DigestAsync(_sync.Destination)}, expected {await DigestAsync(_sync.Source)}.\n{_sync.Logs()}");
            }

            await Task.Delay(200);
        }
    }

    private async Task<long> DeadLettersAsync() =>
        Convert.ToInt64(await OrdersTable.ScalarAsync(_sync.Control, "SELECT count(*) FROM dead_letters"));

    private static async Task<string> DigestAsync(string connectionString) =>
        (string)(await OrdersTable.ScalarAsync(connectionString, $"SELECT count(*) || ' ' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM ({Expected}) r"))!;
}
