using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>One Sync installation shared by the pg→pg tests; each test has its own job and tables.</summary>
public sealed class PgToPgFixture : IAsyncLifetime
{
    public SyncDeployment Deployment { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Deployment = await SyncDeployment.CreateAsync("pgpg");
        foreach (var table in new[] { "orders_initial", "orders_incremental", "orders_ties" })
        {
            await OrdersTable.CreateAsync(Deployment.Source, table);
            await OrdersTable.CreateAsync(Deployment.Destination, table);
            Deployment.WriteJob($"{table}.yml", OrdersTable.Job(table.Replace('_', '-'), table));
        }

        await OrdersTable.CreateAsync(Deployment.Source, "orders_mapped");
        await OrdersTable.ExecuteAsync(Deployment.Destination,
            "CREATE TABLE order_totals (order_id bigint PRIMARY KEY, state text NOT NULL, total numeric(14,2), changed_at timestamptz NOT NULL)");
        Deployment.WriteJob("orders_mapped.yml", """
            name: orders-mapped
            batch_size: 500
            source:
              type: postgres
              connection: source
              table: public.orders_mapped
              cursor: updated_at
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.order_totals
            columns:
              order_id: id
              state: status
              total: amount
              changed_at: updated_at
            """);

        // Issue 13: a source without a unique key (several versions of an order) into a partitioned table.
        await OrdersTable.ExecuteAsync(Deployment.Source, """
            CREATE TABLE order_versions (id bigint NOT NULL, status text NOT NULL, amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL) PARTITION BY HASH (id);
            CREATE TABLE order_versions_0 PARTITION OF order_versions FOR VALUES WITH (MODULUS 2, REMAINDER 0);
            CREATE TABLE order_versions_1 PARTITION OF order_versions FOR VALUES WITH (MODULUS 2, REMAINDER 1);
            """);
        await OrdersTable.ExecuteAsync(Deployment.Destination, """
            CREATE TABLE latest_orders (id bigint, status text NOT NULL, amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL, PRIMARY KEY (id)) PARTITION BY HASH (id);
            CREATE TABLE latest_orders_0 PARTITION OF latest_orders FOR VALUES WITH (MODULUS 3, REMAINDER 0);
            CREATE TABLE latest_orders_1 PARTITION OF latest_orders FOR VALUES WITH (MODULUS 3, REMAINDER 1);
            CREATE TABLE latest_orders_2 PARTITION OF latest_orders FOR VALUES WITH (MODULUS 3, REMAINDER 2);
            """);
        Deployment.WriteJob("latest_orders.yml", """
            name: latest-orders
            batch_size: 200
            source:
              type: postgres
              connection: source
              table: public.order_versions
              cursor: updated_at
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.latest_orders
            """);
        await Deployment.StartAsync();
    }

    public async Task DisposeAsync() => await Deployment.DisposeAsync();
}
