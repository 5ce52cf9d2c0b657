using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// The shipped warehouse job (jobs/orders_fact.yml, a query source) through the four services:
/// orders_fact equals the aggregate computed in SQL, and an order whose items change is synced again.
/// </summary>
public sealed class OrdersFactTests
{
    private const int Orders = 3_000;
    private const string Expected = """
        SELECT o.id, u.email, coalesce(sum(i.quantity * i.unit_price), 0)::numeric(12,2), count(i.id)::int, o.status, o.created_at::date
        FROM orders o JOIN users u ON u.id = o.customer_id LEFT JOIN order_items i ON i.order_id = o.id
        GROUP BY o.id, u.email
        """;

    private const string Actual = "SELECT order_id, user_email, total_amount, item_count, status, order_date FROM public.orders_fact";

    [Fact]
    public async Task The_orders_fact_job_equals_the_aggregate_and_resyncs_orders_whose_items_changed()
    {
        await using var sync = await SyncDeployment.CreateAsync("ordersfact");
        await OrdersTable.ExecuteAsync(sync.Source, $"""
            CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, updated_at timestamptz NOT NULL);
            CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
                created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
            CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL, quantity integer NOT NULL,
                unit_price numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL);
            INSERT INTO users SELECT g, 'user' || g || '@example.com', now() - interval '2 days' FROM generate_series(0, 99) g;
            INSERT INTO orders SELECT g, g % 100, (ARRAY['new','paid','shipped'])[1 + g % 3], now() - interval '3 days',
                now() - interval '1 day' + g * interval '1 millisecond' FROM generate_series(1, {Orders}) g;
            INSERT INTO order_items SELECT o * 10 + k, o, 1 + (o + k) % 4, (o % 50) + k + 0.99, now() - interval '1 day'
                FROM generate_series(1, {Orders}) o, generate_series(1, 3) k WHERE k <= o % 4;
            """);
        await OrdersTable.ExecuteAsync(sync.Destination, """
            CREATE TABLE public.orders_fact (order_id bigint PRIMARY KEY, user_email text NOT NULL, total_amount numeric(12,2) NOT NULL,
                item_count integer NOT NULL, status text NOT NULL, order_date date NOT NULL, synced_at timestamptz NOT NULL,
                changed_at timestamptz NOT NULL)
            """);
        sync.WriteJob("orders_fact.yml", ShippedJobYaml()
            .Replace("connection: demo_source", "connection: source", StringComparison.Ordinal)
            .Replace("connection: demo_destination", "connection: destination", StringComparison.Ordinal));
        await sync.StartAsync();

        var first = await sync.RunAsync("orders_fact");

        Assert.Equal(("Completed", Orders), (first.State, first.Inserted));
        Assert.Equal(await DigestAsync(sync.Source, Expected), await DigestAsync(sync.Destination, Actual));

        // Item k=1 of the 30 orders with id % 100 = 1 (each has one: id % 4 = 1) changes.
        await OrdersTable.ExecuteAsync(sync.Source, "UPDATE order_items SET quantity = quantity + 1, updated_at = clock_timestamp() WHERE order_id % 100 = 1 AND id % 10 = 1");
        var second = await sync.RunAsync("orders_fact");

        Assert.Equal(("Completed", 0, Orders / 100), (second.State, second.Inserted, second.Updated));
        Assert.Equal(await DigestAsync(sync.Source, Expected), await DigestAsync(sync.Destination, Actual));
    }

    private static string ShippedJobYaml()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Sync.sln")))
        {
            directory = directory.Parent;
        }

        return File.ReadAllText(Path.Combine(directory!.FullName, "jobs", "orders_fact.yml"));
    }

    private static async Task<string> DigestAsync(string connectionString, string query)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) || ' ' || md5(string_agg(r::text, '|' ORDER BY r::text)) FROM ({query}) r", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
