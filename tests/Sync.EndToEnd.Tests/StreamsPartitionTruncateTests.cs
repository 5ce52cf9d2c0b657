using System.Net.Http.Json;
using System.Text.Json;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Issue 14, item 4, for a cdc job with streams (issue 18), through the four services: a TRUNCATE of
/// one partition of one stream's table, while both tables are written to, used to fail every run of
/// the job at the same place until a person acted. The job now copies that table again by itself and
/// goes on: no run fails, every destination table equals its source, the other partition's rows are
/// never deleted or truncated there, and the other table loses no change made after the truncate.
/// </summary>
public sealed class StreamsPartitionTruncateTests
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly DigestComparison[] Tables =
    [
        DigestComparison.Table("public.customers", "t.id"),
        DigestComparison.Table("public.payments", "t.id, t.region"),
    ];

    [Fact]
    public async Task A_truncate_of_one_partition_copies_that_stream_again_by_itself_and_the_other_stream_loses_no_change()
    {
        await using var sync = await CdcDeployment.CreateAsync("streamsptrunc");
        try
        {
            // Region 1 (even ids) is never truncated: a destination trigger records every row of it the
            // destination ever loses, and any TRUNCATE of the destination table.
            await OrdersTable.ExecuteAsync(sync.Destination, """
                CREATE TABLE customers (id bigint PRIMARY KEY, qty integer NOT NULL);
                CREATE TABLE payments (id bigint NOT NULL, region integer NOT NULL, qty integer, PRIMARY KEY (id, region));
                CREATE TABLE payments_lost (id bigint, region integer);
                CREATE FUNCTION payments_lost() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    INSERT INTO payments_lost VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id END, CASE WHEN TG_OP = 'DELETE' THEN OLD.region END);
                    RETURN NULL;
                END $$;
                CREATE TRIGGER lost AFTER DELETE ON payments FOR EACH ROW EXECUTE FUNCTION payments_lost();
                CREATE TRIGGER emptied AFTER TRUNCATE ON payments FOR EACH STATEMENT EXECUTE FUNCTION payments_lost();
                """);
            await OrdersTable.ExecuteAsync(sync.Source, """
                CREATE TABLE customers (id bigint PRIMARY KEY, qty integer NOT NULL);
                CREATE TABLE payments (id bigint NOT NULL, region integer NOT NULL, qty integer, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
                CREATE TABLE payments_p1 PARTITION OF payments FOR VALUES IN (1);
                CREATE TABLE payments_p2 PARTITION OF payments FOR VALUES IN (2);
                INSERT INTO customers SELECT g, g FROM generate_series(1, 500) g;
                INSERT INTO payments SELECT g, 1 + g % 2, g FROM generate_series(1, 2000) g;
                """);
            sync.WriteJob("ptshop.yml", """
                name: ptshop
                mode: cdc
                schedule: continuous
                batch_size: 100
                source: { type: postgres, connection: source }
                destination: { type: postgres, connection: destination }
                streams: [public.customers, public.payments]
                """);
            await sync.StartAsync();
            await sync.WaitForEqualAsync("the first copy", Tables, diagnostics: () => FailuresAsync(sync));

            // Churn on both tables, each change in a transaction of its own, the truncate of region 2's
            // partition amid it (in a transaction that changes both tables), and more churn after it.
            // Every customers change leaves its row in a state no later change overwrites, so a change
            // lost between the truncate and the copy would show in the digest.
            await OrdersTable.ExecuteAsync(sync.Source, "DELETE FROM payments WHERE id = 4");
            for (var i = 1; i <= 60; i++)
            {
                if (i == 30)
                {
                    await OrdersTable.ExecuteAsync(sync.Source, """
                        BEGIN;
                        UPDATE customers SET qty = -30 WHERE id = 30;
                        UPDATE payments SET qty = -1 WHERE id IN (2, 3);
                        TRUNCATE payments_p2;
                        INSERT INTO payments VALUES (5001, 2, 5001), (5002, 1, 5002);
                        COMMIT;
                        """);
                    continue;
                }

                await OrdersTable.ExecuteAsync(sync.Source, $"UPDATE customers SET qty = -{i} WHERE id = {i}");
                await OrdersTable.ExecuteAsync(sync.Source, $"INSERT INTO customers VALUES (1000 + {i}, {i})");
                await OrdersTable.ExecuteAsync(sync.Source, $"INSERT INTO payments VALUES (3000 + {i}, 1 + {i} % 2, {i}); UPDATE payments SET qty = -{i} WHERE id = 10 + 2 * {i}");
                await Task.Delay(50);
            }

            await sync.WaitForEqualAsync("the truncate amid changes of both tables", Tables, diagnostics: () => FailuresAsync(sync));
            Assert.Equal(60L, await OrdersTable.ScalarAsync(sync.Destination, "SELECT count(*) FROM customers WHERE qty < 0 AND id <= 60"));
            Assert.Equal(59L, await OrdersTable.ScalarAsync(sync.Destination, "SELECT count(*) FROM customers WHERE id > 1000"));

            // The job goes on by itself: a later change of every table arrives, and no run failed.
            await OrdersTable.ExecuteAsync(sync.Source, "UPDATE customers SET qty = 7777 WHERE id = 77; INSERT INTO payments VALUES (6001, 2, 6001), (6002, 1, 6002); UPDATE payments SET qty = 8888 WHERE id = 888");
            await sync.WaitForEqualAsync("a later change of every table", Tables, diagnostics: () => FailuresAsync(sync));
            Assert.Equal(7777L, Convert.ToInt64(await OrdersTable.ScalarAsync(sync.Destination, "SELECT qty FROM customers WHERE id = 77")));
            Assert.Empty(await FailedRunsAsync(sync));

            // Region 1's rows were never missing from the destination: of them only the row the source
            // deleted was ever deleted there, and the destination table was never truncated.
            Assert.Equal("4", await OrdersTable.ScalarAsync(sync.Destination, "SELECT coalesce(string_agg(coalesce(id::text, 'truncate'), ',' ORDER BY id), '') FROM payments_lost WHERE region IS NULL OR region = 1"));
            Assert.Equal(1L, await OrdersTable.ScalarAsync(sync.Source, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database() AND NOT temporary"));
        }
        finally
        {
            await sync.ReleaseCdcSlotsAsync();
        }
    }

    private static async Task<List<RunResult>> FailedRunsAsync(SyncDeployment sync) =>
        (await sync.Http.GetFromJsonAsync<List<RunResult>>("/api/jobs/ptshop/runs?limit=500", Json))!.FindAll(r => r.State == "Failed");

    // The reasons the job's runs failed for, to say why a wait timed out.
    private static async Task<string> FailuresAsync(SyncDeployment sync) =>
        string.Concat((await FailedRunsAsync(sync)).Select(r => r.FailureReason).Distinct().Select(reason => $"\nA run failed: {reason}"));
}
