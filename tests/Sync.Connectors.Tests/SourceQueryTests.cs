using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// The shipped warehouse job (jobs/orders_fact.yml) against real PostgreSQL: its query source is
/// extracted after a watermark and loaded, and the fact table equals the same aggregate computed in SQL.
/// </summary>
public sealed class SourceQueryTests : IAsyncLifetime
{
    private const int Orders = 2_500;
    private const string Expected = """
        SELECT o.id, u.email, coalesce(sum(i.quantity * i.unit_price), 0)::numeric(12,2), count(i.id)::int, o.status, o.created_at::date
        FROM orders o JOIN users u ON u.id = o.customer_id LEFT JOIN order_items i ON i.order_id = o.id
        GROUP BY o.id, u.email
        """;

    private const string Actual = "SELECT order_id, user_email, total_amount, item_count, status, order_date FROM orders_fact";

    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;

    private string Database => _scratch.ConnectionString;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("sq_conn");
        await _scratch.ExecuteAsync($"""
            CREATE TABLE users (id integer PRIMARY KEY, email text NOT NULL, updated_at timestamptz NOT NULL);
            CREATE TABLE orders (id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL,
                created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL);
            CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL, quantity integer NOT NULL,
                unit_price numeric(10,2) NOT NULL, updated_at timestamptz NOT NULL);
            INSERT INTO users SELECT g, 'user' || g || '@example.com', now() - interval '2 days' FROM generate_series(0, 99) g;
            INSERT INTO orders SELECT g, g % 100, (ARRAY['new','paid','shipped'])[1 + g % 3], now() - interval '3 days',
                now() - interval '1 day' + g * interval '1 millisecond' FROM generate_series(1, {Orders}) g;
            -- 0 to 3 items per order: orders without items have total 0 and count 0.
            INSERT INTO order_items SELECT o * 10 + k, o, 1 + (o + k) % 4, (o % 50) + k + 0.99, now() - interval '1 day'
                FROM generate_series(1, {Orders}) o, generate_series(1, 3) k WHERE k <= o % 4;
            CREATE TABLE orders_fact (order_id bigint PRIMARY KEY, user_email text NOT NULL, total_amount numeric(12,2) NOT NULL,
                item_count integer NOT NULL, status text NOT NULL, order_date date NOT NULL, synced_at timestamptz NOT NULL,
                changed_at timestamptz NOT NULL);
            """);
        _connections = new ConnectionCatalog(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Connections:demo_source"] = Database,
                ["Connections:demo_destination"] = Database,
            })
            .Build());
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task The_orders_fact_job_loads_the_aggregate_and_resyncs_an_order_whose_items_changed()
    {
        var job = ShippedJob();

        var first = await SyncAsync(job, after: null);

        Assert.Equal(Orders, first.Rows);
        Assert.Equal(await DigestAsync(Expected), await DigestAsync(Actual));

        // One item of order 7 changes, and user 3's email: order 7 and user 3's 25 orders move past the watermark.
        await _scratch.ExecuteAsync("""
            UPDATE order_items SET quantity = quantity + 5, updated_at = clock_timestamp() WHERE id = 71;
            UPDATE users SET email = 'changed@example.com', updated_at = clock_timestamp() WHERE id = 3;
            """);

        var second = await SyncAsync(job, first.High);

        Assert.Equal(1 + (Orders / 100), second.Rows);
        Assert.Equal(await DigestAsync(Expected), await DigestAsync(Actual));

        var third = await SyncAsync(job, second.High);

        Assert.Equal(0, third.Rows);
    }

    [Fact]
    public async Task A_query_source_runs_read_only()
    {
        var job = ShippedJob() with
        {
            Source = ShippedJob().Source with { Query = "SELECT id AS order_id, nextval('nope') AS n, updated_at AS changed_at FROM orders" },
            Transform = new TransformSpec([]),
        };
        await _scratch.ExecuteAsync("CREATE SEQUENCE nope");

        var thrown = await Assert.ThrowsAsync<PostgresException>(() => SyncAsync(job, after: null));

        Assert.Equal(PostgresErrorCodes.ReadOnlySqlTransaction, thrown.SqlState);
    }

    [Fact]
    public async Task The_schema_check_accepts_the_shipped_query_and_reports_what_postgresql_refuses()
    {
        var check = new JobSchemaCheck(_connections);
        var broken = ShippedJob() with { Source = ShippedJob().Source with { Query = "SELECT id AS order_id, updated_at AS changed_at FROM no_such_table" } };

        var shipped = await check.CheckAsync(ShippedJob(), CancellationToken.None);
        var refused = await check.CheckAsync(broken, CancellationToken.None);

        Assert.Empty(shipped);
        var problem = Assert.Single(refused, p => p.Field == "source.query");
        Assert.Contains("42P01", problem.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_schema_check_type_checks_expressions_and_lookups_against_the_source()
    {
        var check = new JobSchemaCheck(_connections);
        var job = ShippedJob();
        var transform = job.Transform with
        {
            Columns = [.. job.Transform.Columns, new ColumnMapping("cents", "", null, "round(total_amount * 100) + user_email")],
            Filter = "user_email > 1",
            Lookups = [new LookupSpec("mail", job.Source.Connection, "public.users", "order_id", "id", "mail")],
        };

        var problems = await check.CheckAsync(job with { Transform = transform }, CancellationToken.None);

        Assert.Contains(problems, p => p.Field == "columns.cents.expr" && p.Message.Contains("+ needs numbers, not numeric and text", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Field == "filter" && p.Message.Contains("cannot compare text with bigint", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Field == "lookups.mail" && p.Message.Contains("no column \"mail\"", StringComparison.Ordinal));
    }

    private async Task<(long Rows, CursorPosition? High)> SyncAsync(JobSpec job, CursorPosition? after)
    {
        var resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
        var destination = new PostgresDestination(_connections, resilience);
        var (runId, extractionId, seq) = (Guid.NewGuid(), Guid.NewGuid(), 0);
        var summary = await new PostgresSource(_connections, resilience).ExtractAsync(job, after, async (batch, _, ct) =>
        {
            await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, ++seq, batch, Fence: 0), ct);
        }, CancellationToken.None);
        return (summary.RowCount, summary.High ?? after);
    }

    private static JobSpec ShippedJob()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Sync.sln")))
        {
            directory = directory.Parent;
        }

        var path = Path.Combine(directory!.FullName, "jobs", "orders_fact.yml");
        var result = JobFile.Parse(File.ReadAllText(path), "jobs/orders_fact.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }

    private async Task<string> DigestAsync(string query)
    {
        await using var connection = new NpgsqlConnection(Database);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT count(*) || ' ' || md5(string_agg(r::text, '|' ORDER BY r::text)) FROM ({query}) r", connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }
}
