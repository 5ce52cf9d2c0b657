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
    private static readonly DigestComparison Accounts = new(
        "accounts", CdcDeployment.Digest("(SELECT id, email FROM accounts)"), CdcDeployment.Digest("(SELECT id, email FROM accounts)"));

    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await CdcDeployment.CreateAsync("cdcuniq");
        await OrdersTable.ExecuteAsync(_sync.Source, """
            CREATE TABLE accounts (id bigint PRIMARY KEY, email text NOT NULL UNIQUE);
            INSERT INTO accounts SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 100) g;
            """);
        await OrdersTable.ExecuteAsync(_sync.Destination, "CREATE TABLE accounts (id bigint PRIMARY KEY, email text UNIQUE)");
        _sync.WriteCdcJob("accounts.yml", "accounts", "accounts");
        await _sync.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await using (_sync)
        {
            await _sync.ReleaseCdcSlotsAsync();
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
    private Task WaitForEqualOrDeadLetterAsync() =>
        _sync.WaitForEqualAsync("the changes", [Accounts], settled: async () => await DeadLettersAsync() > 0);

    private async Task<long> DeadLettersAsync() =>
        Convert.ToInt64(await OrdersTable.ScalarAsync(_sync.Control, "SELECT count(*) FROM dead_letters"));

    private static async Task<string> DigestAsync(string connectionString) =>
        (string)(await OrdersTable.ScalarAsync(connectionString, Accounts.SourceDigest))!;
}
