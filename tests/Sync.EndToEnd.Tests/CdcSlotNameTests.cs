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
        _sync = await SyncDeployment.CreateAsync("cdcslots");
        _sync.SetEnvironment("Cdc__RunDuration", "00:00:03");
        foreach (var (job, table) in Jobs)
        {
            const string Columns = "(id bigint PRIMARY KEY, qty integer NOT NULL, note text)";
            await OrdersTable.ExecuteAsync(_sync.Destination, $"CREATE TABLE {table}_copy {Columns};");
            await OrdersTable.ExecuteAsync(_sync.Source, $"CREATE TABLE {table} {Columns}; INSERT INTO {table} SELECT g, g, '{table} ' || g FROM generate_series(1, 300) g;");
            _sync.WriteJob($"{table}.yml", $$"""
                name: {{job}}
                schedule: continuous
                batch_size: 100
                source: { type: postgres, connection: source, table: public.{{table}}, mode: cdc, primary_key: [id] }
                destination: { type: postgres, connection: destination, table: public.{{table}}_copy, deletes: delete }
                """);
        }

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

    private async Task WaitForEqualAsync(string when)
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        foreach (var (job, table) in Jobs)
        {
            string source, destination;
            while ((source = await DigestAsync(_sync.Source, table)) != (destination = await DigestAsync(_sync.Destination, table + "_copy")))
            {
                if (DateTime.UtcNow > deadline)
                {
                    Assert.Fail($"{when}: job {job}'s {table}_copy is {destination}, expected {source}.\n{_sync.Logs()}");
                }

                await Task.Delay(200);
            }
        }
    }

    private static async Task<string> DigestAsync(string connectionString, string table) =>
        (string)(await OrdersTable.ScalarAsync(connectionString, $"SELECT count(*) || ' ' || coalesce(md5(string_agg(t::text, '|' ORDER BY t.id)), '') FROM {table} t"))!;
}
