using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// cdc jobs with each kind of transform, through the four services (issue 14, item 2): computed
/// columns, a filter and a lookup in one job, a C# transform in another. Inserts, updates and
/// deletes made while they stream reach the destination as the same transform computed in SQL;
/// before, each delete became a row of NULLs (expressions, C#) or was dropped (filter).
/// </summary>
public sealed class CdcTransformTests : IAsyncLifetime
{
    private const int Rows = 1_000;

    // The expected destination of each job, computed in SQL over the source.
    private const string ExpectedExpr = """
        SELECT o.id, upper(o.status), round(o.total * 100)::bigint, c.email
        FROM cdc_orders o LEFT JOIN customers c ON c.id = o.customer_id WHERE o.customer_id <> 13
        """;

    private const string ActualExpr = "SELECT id, status, total_cents, email FROM orders_expr";

    private const string ExpectedTier = """
        SELECT id, customer, total, CASE WHEN total >= 1000 THEN 'gold' WHEN total >= 100 THEN 'silver' ELSE 'bronze' END FROM cdc_orders
        """;

    private const string ActualTier = "SELECT id, customer, total, tier FROM orders_tier";

    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        var plugins = Path.Combine(TestInfrastructure.RepositoryRoot, "examples", "Sync.Examples.Transforms", "bin", ServiceProcess.BuildConfiguration, "net10.0");
        _sync = await CdcDeployment.CreateAsync("cdcxform");
        _sync.SetEnvironment("Transformer__Plugins", plugins);
        await OrdersTable.ExecuteAsync(_sync.Source, $"""
            CREATE TABLE customers (id integer PRIMARY KEY, email text NOT NULL);
            INSERT INTO customers SELECT g, 'customer' || g || '@example.com' FROM generate_series(0, 49) g;
            CREATE TABLE cdc_orders (id bigint PRIMARY KEY, customer_id integer NOT NULL, customer text NOT NULL, status text NOT NULL,
                total numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL);
            INSERT INTO cdc_orders SELECT g, g % 50, 'customer ' || (g % 50), 'new', (g % 1500) + 0.25, now() FROM generate_series(1, {Rows}) g;
            """);
        await OrdersTable.ExecuteAsync(_sync.Destination, """
            CREATE TABLE orders_expr (id bigint PRIMARY KEY, status text, total_cents bigint, email text);
            CREATE TABLE orders_tier (id bigint PRIMARY KEY, customer text, total numeric(12,2), tier text);
            """);
        _sync.WriteJob("orders_expr.yml", """
            name: orders-expr
            schedule: continuous
            batch_size: 200
            source: { type: postgres, connection: source, table: public.cdc_orders, mode: cdc, primary_key: [id] }
            destination: { type: postgres, connection: destination, table: public.orders_expr }
            columns:
              id: id
              status: { expr: "upper(status)" }
              total_cents: { expr: "round(total * 100)", cast: bigint }
              email: customer_email
            filter: "customer_id <> 13"
            lookups:
              customer_email: { table: public.customers, key: customer_id, match: id, column: email }
            """);
        _sync.WriteJob("orders_tier.yml", """
            name: orders-tier
            schedule: continuous
            batch_size: 200
            source: { type: postgres, connection: source, table: public.cdc_orders, mode: cdc, primary_key: [id] }
            destination: { type: postgres, connection: destination, table: public.orders_tier }
            columns:
              id: id
              customer: customer
              total: total
            transform: { code: order_tier }
            """);
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
    public async Task Deletes_updates_and_inserts_pass_every_transform_kind_as_the_same_transform_in_SQL()
    {
        await WaitForEqualAsync(ExpectedExpr, ActualExpr);
        await WaitForEqualAsync(ExpectedTier, ActualTier);

        await OrdersTable.ExecuteAsync(_sync.Source, $"""
            DELETE FROM cdc_orders WHERE id % 20 = 0;
            UPDATE cdc_orders SET status = 'paid', total = total + 100, updated_at = now() WHERE id % 20 = 7;
            INSERT INTO cdc_orders SELECT g, g % 50, 'customer ' || (g % 50), 'late', 42.50, now() FROM generate_series({Rows + 1}, {Rows + 40}) g;
            """);

        await WaitForEqualAsync(ExpectedExpr, ActualExpr);
        await WaitForEqualAsync(ExpectedTier, ActualTier);
        Assert.Equal(0L, await OrdersTable.ScalarAsync(_sync.Destination, "SELECT count(*) FROM orders_expr WHERE status IS NULL"));
        Assert.Equal(0L, await OrdersTable.ScalarAsync(_sync.Destination, $"SELECT count(*) FROM orders_tier WHERE id % 20 = 0 AND id <= {Rows}"));
    }

    private Task WaitForEqualAsync(string expected, string actual) =>
        _sync.WaitForEqualAsync("the copy and the changes", [new(actual, CdcDeployment.Digest($"({expected})"), CdcDeployment.Digest($"({actual})"))]);
}
