using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Jobs whose names differ only in '-' and '_', and a job whose name is as long as a job name may be,
/// each follow their own table by cdc through the four services (issue 14, item 7). Before, orders-eu
/// and orders_eu shared slot and publication sync_orders_eu, so one job confirmed away the other's
/// changes (and followed the other's table), and the 63-character name made a 68-byte slot name.
/// </summary>
public sealed class CdcSlotNameTests : IAsyncLifetime
{
    private static readonly string LongName = "orders_" + new string('l', 56);

    private static readonly (string Job, string Table)[] Jobs = [("orders-eu", "eu"), ("orders_eu", "us"), (LongName, "apac")];

    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await CdcDeployment.CreateAsync("cdcslots");
        foreach (var (job, table) in Jobs)
        {
            const string Columns = "(id bigint PRIMARY KEY, qty integer NOT NULL, note text)";
            await OrdersTable.ExecuteAsync(_sync.Destination, $"CREATE TABLE {table}_copy {Columns};");
            await OrdersTable.ExecuteAsync(_sync.Source, $"CREATE TABLE {table} {Columns}; INSERT INTO {table} SELECT g, g, '{table} ' || g FROM generate_series(1, 300) g;");
            _sync.WriteCdcJob($"{table}.yml", job, table, $"{table}_copy", batchSize: 100, destination: ", deletes: delete");
        }

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
    public async Task Jobs_named_alike_and_a_job_of_the_longest_name_each_stream_their_own_table()
    {
        await WaitForEqualAsync("after the copy");

        foreach (var (_, table) in Jobs)
        {
            await OrdersTable.ExecuteAsync(_sync.Source, $"""
                INSERT INTO {table} SELECT g, g, '{table} new ' || g FROM generate_series(301, 350) g;
                UPDATE {table} SET qty = qty + 1000 WHERE id % 7 = 0;
                DELETE FROM {table} WHERE id % 11 = 0;
                """);
        }

        await WaitForEqualAsync("after the changes");
        // One slot per job, each within PostgreSQL's 63 bytes (a longer name is refused or cut by the server).
        var slots = (string)(await OrdersTable.ScalarAsync(_sync.Source,
            "SELECT count(DISTINCT slot_name) || ' ' || max(octet_length(slot_name)) FROM pg_replication_slots WHERE database = current_database() AND slot_name LIKE 'sync\\_%'"))!;
        Assert.Equal(3, int.Parse(slots.Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(int.Parse(slots.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture) <= 63, slots);
    }

    private Task WaitForEqualAsync(string when) =>
        _sync.WaitForEqualAsync(when, [.. Jobs.Select(j => DigestComparison.Tables(j.Table, j.Table + "_copy", order: "t.id") with { Name = $"job {j.Job}'s {j.Table}_copy" })]);
}
