using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// One Sync installation shared by <see cref="TransformJobTests"/>: three jobs with declarative
/// transforms (expressions, casts, filter, lookups), each with its own source and destination tables.
/// No test restarts a service, so one deployment serves them all.
/// </summary>
public sealed class TransformJobFixture : IAsyncLifetime
{
    /// <summary>orders_x → orders_enriched: computed columns, casts, a constant, a filter and a lookup of the user's email.</summary>
    public const string EnrichJob = "orders-enrich";

    /// <summary>parts → parts: a filter and a cast, with batches the filter empties and batches whose every record fails the cast.</summary>
    public const string PartsJob = "parts";

    /// <summary>stock → stock: a full refresh that deletes, with a cast that can fail and a filter.</summary>
    public const string StockJob = "stock-refresh";

    public SyncDeployment Deployment { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Deployment = await SyncDeployment.CreateAsync("xformjobs");
        await OrdersTable.ExecuteAsync(Deployment.Source, """
            CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL);
            CREATE TABLE orders_x (id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
                amount numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL);
            CREATE TABLE parts (id bigint PRIMARY KEY, code text NOT NULL, kind text NOT NULL, updated_at timestamptz NOT NULL);
            CREATE TABLE stock (id bigint PRIMARY KEY, qty text NOT NULL, updated_at timestamptz NOT NULL);
            """);
        await OrdersTable.ExecuteAsync(Deployment.Destination, """
            CREATE TABLE orders_enriched (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, status text NOT NULL,
                amount_rounded bigint NOT NULL, customer text NOT NULL, label text NOT NULL, email text, origin text NOT NULL,
                synced_at timestamptz NOT NULL);
            CREATE TABLE parts (id bigint PRIMARY KEY, code integer NOT NULL, kind text NOT NULL, updated_at timestamptz NOT NULL);
            CREATE TABLE stock (id bigint PRIMARY KEY, qty integer NOT NULL, updated_at timestamptz NOT NULL);
            """);

        Deployment.WriteJob("orders_enrich.yml", $$"""
            name: {{EnrichJob}}
            batch_size: 100
            source:
              type: postgres
              connection: source
              table: public.orders_x
              cursor: updated_at
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.orders_enriched
            columns:
              id: id
              updated_at: updated_at
              status: { expr: "upper(status)" }
              amount_rounded: { expr: "round(amount * 1.1)", cast: bigint }
              customer: { source: customer_id, cast: text }
              label: { expr: "lower(status) || '-' || customer_id" }
              email: user_email
              origin: { expr: "'shop'" }
              synced_at: { expr: "now()" }
            filter: "status <> 'draft'"
            lookups:
              user_email: { table: public.users, key: customer_id, match: id, column: email }
            """);
        Deployment.WriteJob("parts.yml", $$"""
            name: {{PartsJob}}
            batch_size: 100
            source:
              type: postgres
              connection: source
              table: public.parts
              cursor: updated_at
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.parts
            columns:
              id: id
              code: { source: code, cast: integer }
              kind: kind
              updated_at: updated_at
            filter: "kind <> 'hidden'"
            """);
        Deployment.WriteJob("stock.yml", $$"""
            name: {{StockJob}}
            batch_size: 100
            mode: full_refresh
            source:
              type: postgres
              connection: source
              table: public.stock
              cursor: updated_at
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.stock
              deletes: delete
            columns:
              id: id
              qty: { source: qty, cast: integer }
              updated_at: updated_at
            filter: "qty <> 'withdrawn'"
            """);
        await Deployment.StartAsync();
    }

    public async Task DisposeAsync() => await Deployment.DisposeAsync();
}
