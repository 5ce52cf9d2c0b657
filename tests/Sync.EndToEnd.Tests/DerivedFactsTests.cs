using System.Net.Http.Json;
using System.Text.Json;
using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// The warehouse fact (orders + their items + their user) as a derived cdc job through the four
/// services (issue 15, item 4): its inputs change six ways — a new item, a deleted item, an item moved
/// to another order, a user's email, a deleted order, an order committed late — and orders_fact ends
/// equal to the same aggregate computed in SQL on the source. The incremental job by
/// GREATEST(updated_at…) kept the old total of an order whose item was deleted or moved away, and the
/// fact of a deleted order. Then a TRUNCATE of order_items: the job derives every fact again by itself
/// and goes on (issue 14, item 4), where before every run failed at it until a person reset the job.
/// </summary>
public sealed class DerivedFactsTests : IAsyncLifetime
{
    private const int Orders = 2_000;

    private const string Expected = """
        SELECT o.id, u.email, coalesce(sum(i.quantity * i.unit_price), 0)::numeric(12,2), count(i.id)::int, o.status, o.created_at::date
        FROM orders o JOIN users u ON u.id = o.customer_id LEFT JOIN order_items i ON i.order_id = o.id
        GROUP BY o.id, u.email
        """;

    private const string Actual = "SELECT order_id, user_email, total_amount, item_count, status, order_date FROM public.orders_fact";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        _sync = await SyncDeployment.CreateAsync("derivedfact");
        _sync.SetEnvironment("Cdc__RunDuration", "00:00:03");
        await OrdersTable.ExecuteAsync(_sync.Source, $"""
            CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
                created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now());
            CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL, quantity integer NOT NULL,
                unit_price numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
            -- A moved or deleted item names its old order only through the old row, which carries the replica identity.
            ALTER TABLE order_items REPLICA IDENTITY FULL;
            INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(0, 99) g;
            INSERT INTO orders SELECT g, g % 100, (ARRAY['new','paid','shipped'])[1 + g % 3], now() - interval '3 days'
                FROM generate_series(1, {Orders}) g;
            INSERT INTO order_items SELECT o * 10 + k, o, 1 + (o + k) % 4, (o % 50) + k + 0.99
                FROM generate_series(1, {Orders}) o, generate_series(1, 3) k WHERE k <= o % 4;
            """);
        await OrdersTable.ExecuteAsync(_sync.Destination, """
            CREATE TABLE public.orders_fact (order_id bigint PRIMARY KEY, user_email text NOT NULL, total_amount numeric(12,2) NOT NULL,
                item_count integer NOT NULL, status text NOT NULL, order_date date NOT NULL)
            """);
        _sync.WriteJob("orders_fact.yml", """
            name: orders_fact
            schedule: continuous
            source:
              type: postgres
              connection: source
              mode: cdc
              query: |
                SELECT o.id AS order_id,
                       u.email AS user_email,
                       coalesce(sum(i.quantity * i.unit_price), 0)::numeric(12,2) AS total_amount,
                       count(i.id)::integer AS item_count,
                       o.status,
                       o.created_at::date AS order_date
                FROM orders o
                JOIN users u ON u.id = o.customer_id
                LEFT JOIN order_items i ON i.order_id = o.id
                GROUP BY o.id, u.id
              primary_key: [order_id]
              depends_on:
                - table: public.orders
                  fact_key: [id]
                - table: public.order_items
                  fact_key: [order_id]
                - table: public.users
                  fact_keys_query: "SELECT id FROM public.orders WHERE customer_id = ANY(@id)"
            destination:
              type: postgres
              connection: destination
              table: public.orders_fact
              key: [order_id]
              deletes: delete
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
    public async Task Six_kinds_of_input_change_leave_the_fact_equal_to_the_aggregate_in_SQL()
    {
        await WaitForEqualAsync();

        // Opened before the other changes, committed after them: its order and items arrive last.
        await using var late = new NpgsqlConnection(_sync.Source);
        await late.OpenAsync();
        await using var transaction = await late.BeginTransactionAsync();
        await using (var insert = new NpgsqlCommand(
            $"INSERT INTO orders (id, customer_id, status) VALUES ({Orders + 1}, 7, 'late'); INSERT INTO order_items (id, order_id, quantity, unit_price) VALUES (900001, {Orders + 1}, 2, 10.00), (900002, {Orders + 1}, 1, 5.50)",
            late,
            transaction))
        {
            await insert.ExecuteNonQueryAsync();
        }

        await OrdersTable.ExecuteAsync(_sync.Source, """
            INSERT INTO order_items (id, order_id, quantity, unit_price) VALUES (800001, 4, 3, 7.25);
            DELETE FROM order_items WHERE id = 51;
            UPDATE order_items SET order_id = 8 WHERE id = 61;
            UPDATE users SET email = 'renamed@example.com', updated_at = now() WHERE id = 9;
            DELETE FROM order_items WHERE order_id = 11;
            DELETE FROM orders WHERE id = 11;
            """);
        await transaction.CommitAsync();

        await WaitForEqualAsync();
        Assert.Equal(0L, await OrdersTable.ScalarAsync(_sync.Destination, "SELECT count(*) FROM orders_fact WHERE order_id = 11"));
        Assert.Equal("renamed@example.com", await OrdersTable.ScalarAsync(_sync.Destination, "SELECT min(user_email) FROM orders_fact WHERE order_id % 100 = 9"));

        // A TRUNCATE of a dependency, in a transaction that also changes orders: every fact is derived again.
        await OrdersTable.ExecuteAsync(_sync.Source, """
            BEGIN;
            UPDATE orders SET status = 'paid' WHERE id = 12;
            TRUNCATE order_items;
            DELETE FROM orders WHERE id = 13;
            INSERT INTO order_items (id, order_id, quantity, unit_price) VALUES (700001, 14, 2, 4.00);
            COMMIT;
            """);
        await WaitForEqualAsync();
        Assert.Equal(0L, await OrdersTable.ScalarAsync(_sync.Destination, "SELECT count(*) FROM orders_fact WHERE order_id = 13"));

        // The job goes on by itself: a later change arrives, and no run failed.
        await OrdersTable.ExecuteAsync(_sync.Source, "INSERT INTO order_items (id, order_id, quantity, unit_price) VALUES (700002, 15, 1, 2.50)");
        await WaitForEqualAsync();
        Assert.Equal(1L, await OrdersTable.ScalarAsync(_sync.Destination, "SELECT item_count::bigint FROM orders_fact WHERE order_id = 15"));
        var runs = (await _sync.Http.GetFromJsonAsync<List<RunResult>>("/api/jobs/orders_fact/runs?limit=500", Json))!;
        Assert.Empty(runs.FindAll(r => r.State == "Failed"));
    }

    private async Task WaitForEqualAsync()
    {
        var deadline = DateTime.UtcNow.AddMinutes(2);
        string source, destination;
        while ((source = await DigestAsync(_sync.Source, Expected)) != (destination = await DigestAsync(_sync.Destination, Actual)))
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"orders_fact: {destination}, expected {source}.\n{_sync.Logs()}");
            }

            await Task.Delay(200);
        }
    }

    private static async Task<string> DigestAsync(string connectionString, string query) =>
        (string)(await OrdersTable.ScalarAsync(connectionString, $"SELECT count(*) || ' ' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM ({query}) r"))!;
}
