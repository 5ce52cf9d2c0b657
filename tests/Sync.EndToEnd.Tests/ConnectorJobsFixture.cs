using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// One Sync installation for the jobs whose source or destination is not a PostgreSQL table: an http
/// job reading <see cref="OrdersApi"/>, files jobs reading folders of a local inbox, and jobs through the
/// example C# source, transform and sink (examples/Sync.Examples.Transforms, loaded as plugins by the
/// Extractor, the Transformer and the Loader). Each test class has its own job and tables.
/// </summary>
public sealed class ConnectorJobsFixture : IAsyncLifetime
{
    public const string Collection = "connector jobs";

    public SyncDeployment Deployment { get; private set; } = null!;

    /// <summary>The folder of the files connection <c>inbox</c>.</summary>
    public string Inbox { get; } = Directory.CreateTempSubdirectory("sync-inbox-").FullName;

    /// <summary>Where the <c>jsonl_folder</c> sink writes (SYNC_JSONL_SINK_FOLDER of the Loader).</summary>
    public string SinkFolder { get; } = Directory.CreateTempSubdirectory("sync-sink-").FullName;

    internal OrdersApi Api { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var plugins = Path.Combine(TestInfrastructure.RepositoryRoot, "examples", "Sync.Examples.Transforms", "bin", ServiceProcess.BuildConfiguration, "net10.0");
        if (!File.Exists(Path.Combine(plugins, "Sync.Examples.Transforms.dll")))
        {
            throw new InvalidOperationException($"The example plugin is not built in {plugins}: build the solution first (./run test does).");
        }

        Api = await OrdersApi.StartAsync();
        Deployment = await SyncDeployment.CreateAsync("connjobs");
        Deployment.SetEnvironment("HttpConnections__orders_api__BaseUrl", Api.BaseUrl.ToString());
        Deployment.SetEnvironment("HttpConnections__orders_api__AuthSecret", OrdersApi.Secret);
        Deployment.SetEnvironment("FileConnections__inbox", Inbox);
        Deployment.SetEnvironment("Extractor__Plugins", plugins);
        Deployment.SetEnvironment("Transformer__Plugins", plugins);
        Deployment.SetEnvironment("Loader__Plugins", plugins);
        Deployment.SetEnvironment("SYNC_JSONL_SINK_FOLDER", SinkFolder);

        await OrdersTable.ExecuteAsync(Deployment.Destination, """
            CREATE TABLE orders_from_api (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, total numeric(12,2), customer text);
            CREATE TABLE orders_from_files (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, status text, total numeric(12,2));
            CREATE TABLE orders_late_files (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, status text, total numeric(12,2));
            CREATE TABLE demo_orders (seq bigint NOT NULL, id integer PRIMARY KEY, customer text NOT NULL, total numeric(12,2) NOT NULL,
                created_at timestamptz NOT NULL, tier text NOT NULL);
            """);
        await OrdersTable.ExecuteAsync(Deployment.Source,
            "CREATE TABLE shop_orders (id bigint PRIMARY KEY, customer text NOT NULL, total numeric(12,2) NOT NULL, updated_at timestamptz NOT NULL)");

        Deployment.WriteJob("orders_from_api.yml", """
            name: orders_from_api
            batch_size: 100
            source:
              type: http
              connection: orders_api
              path: /v1/orders
              records: data.items
              since_param: updated_since
              pagination: { type: cursor, next: meta.next_cursor, param: cursor }
              cursor: updated_at
              primary_key: [id]
              fields:
                id: bigint
                updated_at: timestamptz
                total: { path: amount.total, type: numeric }
                customer: { path: customer.email, type: text }
            destination:
              type: postgres
              connection: destination
              table: public.orders_from_api
            """);
        Deployment.WriteJob("orders_from_files.yml", """
            name: orders_from_files
            batch_size: 100
            source:
              type: files
              connection: inbox
              pattern: "orders/*.csv"
              format: csv
              cursor: updated_at
              primary_key: [id]
              fields:
                id: bigint
                updated_at: timestamptz
                status: text
                total: { path: order_total, type: numeric }
            destination:
              type: postgres
              connection: destination
              table: public.orders_from_files
            """);
        Deployment.WriteJob("orders_late_files.yml", """
            name: orders_late_files
            batch_size: 100
            source:
              type: files
              connection: inbox
              pattern: "late/*.csv"
              format: csv
              cursor: updated_at
              primary_key: [id]
              fields:
                id: bigint
                updated_at: timestamptz
                status: text
                total: { path: order_total, type: numeric }
            destination:
              type: postgres
              connection: destination
              table: public.orders_late_files
            """);
        Deployment.WriteJob("demo_orders.yml", """
            name: demo_orders
            source:
              type: code
              name: demo_orders
              cursor: seq
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.demo_orders
            transform: { code: order_tier }
            """);
        // id is blanked for the anonymous customer, whose record the sink refuses (it keys on id).
        Deployment.WriteJob("orders_jsonl.yml", """
            name: orders_jsonl
            batch_size: 100
            source:
              type: postgres
              connection: source
              table: public.shop_orders
              cursor: updated_at
              primary_key: [id]
            destination:
              type: code
              name: jsonl_folder
            columns:
              order_id: id
              id: { expr: "case when customer <> 'anonymous' then id end" }
              customer: customer
              total: total
              updated_at: updated_at
            transform: { code: order_tier }
            """);
        await Deployment.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await Deployment.DisposeAsync();
        await Api.DisposeAsync();
        Directory.Delete(Inbox, recursive: true);
        Directory.Delete(SinkFolder, recursive: true);
    }

    /// <summary>Every row of <paramref name="sql"/>, read by <paramref name="read"/>.</summary>
    public static async Task<List<T>> QueryAsync<T>(string connectionString, string sql, Func<NpgsqlDataReader, T> read, params object[] parameters)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        foreach (var parameter in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = parameter });
        }

        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(read(reader));
        }

        return rows;
    }

    /// <summary>The values of the job's committed watermark position.</summary>
    public async Task<List<string>> WatermarkAsync(string job) =>
        await QueryAsync(Deployment.Control, "SELECT jsonb_array_elements_text(cursor->'Values') FROM sync_watermarks WHERE key = $1", r => r.GetString(0), job);
}

[CollectionDefinition(ConnectorJobsFixture.Collection)]
public sealed class ConnectorJobsCollection : ICollectionFixture<ConnectorJobsFixture>;
