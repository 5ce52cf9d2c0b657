using System.Buffers.Binary;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Batches;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Cdc;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// A derived cdc job (a query with depends_on) against real PostgreSQL: a change of any table the
/// query reads names the right facts (the new row's and the old row's), exactly those are derived
/// again, a fact whose parent is gone is deleted, and a dependency whose replica identity lacks its
/// key columns is refused with the fix.
/// </summary>
public sealed class DerivedCdcSourceTests : IAsyncLifetime
{
    private const string Query = """
        SELECT o.id AS order_id, u.email AS user_email,
               coalesce(sum(i.quantity * i.unit_price), 0)::numeric(12,2) AS total_amount,
               count(i.id)::integer AS item_count, o.status
        FROM public.orders o
        JOIN public.users u ON u.id = o.customer_id
        LEFT JOIN public.order_items i ON i.order_id = o.id
        GROUP BY o.id, u.id
        """;

    private readonly CdcOptions _options = new() { RunDuration = TimeSpan.FromSeconds(3), IdleEnd = TimeSpan.FromMilliseconds(300), FlushInterval = TimeSpan.FromMilliseconds(50) };
    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("cdc_derived");
        await _scratch.ExecuteAsync("""
            CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL);
            CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES users, status text NOT NULL);
            CREATE TABLE order_items (id bigint PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders, quantity integer NOT NULL, unit_price numeric(10,2) NOT NULL);
            ALTER TABLE order_items REPLICA IDENTITY FULL;
            INSERT INTO users SELECT g, 'user' || g || '@example.com' FROM generate_series(1, 10) g;
            INSERT INTO orders SELECT g, CASE WHEN g IN (5, 6) THEN 5 ELSE g END, 'new' FROM generate_series(1, 10) g;
            INSERT INTO order_items SELECT g, 1 + (g - 1) % 10, g, 1.50 FROM generate_series(1, 30) g;
            CREATE TABLE orders_fact (order_id bigint PRIMARY KEY, user_email text, total_amount numeric(12,2), item_count integer, status text);
            """);
        _connections = Catalog(_scratch.ConnectionString);
        _resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
    }

    public async Task DisposeAsync()
    {
        // DROP DATABASE (ScratchDatabase.DropAsync) drops the database's replication slots too; every run here has ended its reader.
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task Each_kind_of_change_names_its_new_and_old_facts_and_a_fact_whose_order_is_gone_is_deleted()
    {
        var job = Job("derived_keys_" + Suffix());
        var snapshot = await RunAsync(job, after: null);

        await _scratch.ExecuteAsync("""
            INSERT INTO order_items VALUES (101, 1, 2, 3.00);
            DELETE FROM order_items WHERE id = 2;
            UPDATE order_items SET order_id = 4 WHERE id = 3;
            UPDATE users SET email = 'five@example.com' WHERE id = 5;
            DELETE FROM order_items WHERE order_id = 7;
            DELETE FROM orders WHERE id = 7;
            """);
        var changes = new List<(long Key, char Operation)>();
        var run = await RunAsync(job, snapshot.High, changes);

        Assert.Equal(10, snapshot.Rows);
        // 1 new item, 2 deleted item, 3 → 4 moved item (old and new order), 5 and 6 the user's orders, 7 gone.
        Assert.Equal([(1, 'u'), (2, 'u'), (3, 'u'), (4, 'u'), (5, 'u'), (6, 'u'), (7, 'd')], changes.Order());
        Assert.Equal(await DigestAsync(Query), await DigestAsync("SELECT * FROM orders_fact"));
        Assert.Equal(7, run.Rows);
    }

    [Fact]
    public async Task A_dependency_whose_replica_identity_lacks_its_fact_key_is_refused_with_the_fix()
    {
        await _scratch.ExecuteAsync("ALTER TABLE order_items REPLICA IDENTITY DEFAULT");
        var job = Job("derived_identity_" + Suffix());

        var refused = await Assert.ThrowsAsync<SourceSchemaException>(() => RunAsync(job, after: null));

        Assert.Contains("Column \"order_id\" of order_items", refused.Message, StringComparison.Ordinal);
        Assert.Contains("REPLICA IDENTITY FULL", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_fact_keys_query_returning_another_number_of_columns_than_the_key_is_refused()
    {
        var job = Job("derived_arity_" + Suffix(), usersQuery: "SELECT id, status FROM public.orders WHERE customer_id = ANY(@id)");
        var snapshot = await RunAsync(job, after: null);
        await _scratch.ExecuteAsync("UPDATE users SET email = 'x@example.com' WHERE id = 1");

        var refused = await Assert.ThrowsAsync<SourceSchemaException>(() => RunAsync(job, snapshot.High));

        Assert.Contains("returns 2 columns, but the fact key (primary_key) has 1", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_change_naming_more_facts_than_batch_size_is_derived_in_batches_of_at_most_that_size()
    {
        await _scratch.ExecuteAsync("INSERT INTO orders SELECT g, 3, 'bulk' FROM generate_series(1001, 1250) g");
        var job = Job("derived_fanout_" + Suffix(), batchSize: 100);
        var snapshot = await RunAsync(job, after: null);
        await _scratch.ExecuteAsync("UPDATE users SET email = 'three@example.com' WHERE id = 3");

        var sizes = new List<int>();
        var run = await RunAsync(job, snapshot.High, sizes: sizes);

        Assert.Equal(251, run.Rows);
        Assert.Equal([100, 100, 51], sizes);
        Assert.Equal(await DigestAsync(Query), await DigestAsync("SELECT * FROM orders_fact"));
    }

    [Fact]
    public async Task Derived_facts_are_cut_by_batch_bytes_as_well_as_by_batch_size()
    {
        await _scratch.ExecuteAsync("INSERT INTO orders SELECT g, 3, 'bulk' FROM generate_series(1001, 1250) g");
        const int batchBytes = 4096;
        var job = Job("derived_bytes_" + Suffix(), batchSize: 10_000) with { BatchBytes = batchBytes };
        var snapshot = await RunAsync(job, after: null);
        await _scratch.ExecuteAsync("UPDATE users SET email = 'three@example.com' WHERE id = 3");

        var sizes = new List<int>();
        var bytes = new List<int>();
        var run = await RunAsync(job, snapshot.High, sizes: sizes, bytes: bytes);

        Assert.Equal(251, run.Rows);
        Assert.Equal(251, sizes.Sum());
        Assert.True(bytes.Count > 1, $"batches of {string.Join(", ", bytes)} bytes");
        Assert.All(bytes, b => Assert.InRange(b, 1, batchBytes));
        Assert.Equal(await DigestAsync(Query), await DigestAsync("SELECT * FROM orders_fact"));
    }

    [Fact]
    public async Task A_dependency_table_that_does_not_exist_is_refused_by_the_run_and_by_the_live_schema_check()
    {
        var job = Job("derived_missing_" + Suffix(), usersTable: "public.customers");

        var refused = await Assert.ThrowsAsync<SourceSchemaException>(() => RunAsync(job, after: null));
        var problems = await new JobSchemaCheck(_connections).CheckAsync(job, CancellationToken.None);

        Assert.Contains("Table public.customers of depends_on does not exist", refused.Message, StringComparison.Ordinal);
        Assert.Contains(problems, p => p.Message.Contains("Table public.customers of depends_on does not exist", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_truncate_of_a_dependency_derives_every_fact_again_after_the_changes_before_it_and_sweeps_only_the_facts_gone()
    {
        var job = Job("derived_trunc_" + Suffix());
        var snapshot = await RunAsync(job, after: null);
        // A trigger records every fact the destination ever loses, and any TRUNCATE of it.
        await _scratch.ExecuteAsync("""
            CREATE TABLE orders_fact_lost (order_id bigint);
            CREATE FUNCTION orders_fact_lost() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO orders_fact_lost VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.order_id END);
                RETURN NULL;
            END $$;
            CREATE TRIGGER lost AFTER DELETE ON orders_fact FOR EACH ROW EXECUTE FUNCTION orders_fact_lost();
            CREATE TRIGGER emptied AFTER TRUNCATE ON orders_fact FOR EACH STATEMENT EXECUTE FUNCTION orders_fact_lost();
            """);
        // Each in a transaction of its own; the truncate's also changes orders, before and after it.
        foreach (var statement in new[]
        {
            "INSERT INTO order_items VALUES (101, 1, 2, 3.00)",
            "BEGIN; UPDATE orders SET status = 'paid' WHERE id = 2; TRUNCATE order_items; DELETE FROM orders WHERE id = 9; INSERT INTO order_items VALUES (201, 3, 1, 9.99); COMMIT",
            "UPDATE orders SET status = 'sent' WHERE id = 4",
            "INSERT INTO orders VALUES (11, 1, 'new')",
        })
        {
            await _scratch.ExecuteAsync(statement);
        }

        // The fact of the change before the truncate's transaction, then every fact again (whose snapshot has the truncate and what followed), then the sweep.
        var kinds = new List<string>();
        var refresh = await RunAsync(job, snapshot.High, kinds: kinds);
        Assert.Equal(["u", "r", "s"], kinds);
        Assert.Equal(await DigestAsync(Query), await DigestAsync("SELECT * FROM orders_fact"));
        // Only the fact the query no longer returns (order 9 is gone) ever left the destination, and it was never truncated.
        Assert.Equal("9", await ScalarAsync("SELECT coalesce(string_agg(coalesce(order_id::text, 'truncate'), ',' ORDER BY order_id), '') FROM orders_fact_lost"));

        // The job goes on from past the truncate: later changes are derived, and nothing is copied again.
        await _scratch.ExecuteAsync("UPDATE order_items SET quantity = 5 WHERE id = 201; INSERT INTO order_items VALUES (202, 11, 1, 1.00)");
        kinds.Clear();
        var watermark = refresh.High;
        while ((await RunAsync(job, watermark, kinds: kinds)) is { Rows: > 0 } run)
        {
            watermark = run.High;
        }

        Assert.NotEmpty(kinds);
        Assert.DoesNotContain(kinds, k => k.Contains('r', StringComparison.Ordinal) || k.Contains('s', StringComparison.Ordinal));
        Assert.Equal(await DigestAsync(Query), await DigestAsync("SELECT * FROM orders_fact"));
        Assert.Equal("9", await ScalarAsync("SELECT coalesce(string_agg(coalesce(order_id::text, 'truncate'), ',' ORDER BY order_id), '') FROM orders_fact_lost"));
    }

    private async Task<(long Rows, CursorPosition? High)> RunAsync(
        JobSpec job, CursorPosition? after, List<(long Key, char Operation)>? changes = null, List<int>? sizes = null, List<int>? bytes = null, List<string>? kinds = null)
    {
        var destination = new PostgresDestination(_connections, _resilience);
        var source = new PostgresChangeSource(_connections, _resilience, Options.Create(_options), NullLogger<PostgresChangeSource>.Instance);
        var (runId, extractionId, seq) = (Guid.NewGuid(), Guid.NewGuid(), 0);
        var summary = await source.ExtractAsync(job, after, 0, async (batch, _, ct) =>
        {
            seq++;
            changes?.AddRange(KeysOf(batch));
            sizes?.Add(batch.RowCount);
            bytes?.Add(batch.Rows.Length);
            kinds?.Add(new string([.. (batch.Operations ?? []).Distinct().Select(o => (char)o)]));
            await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, seq, batch, Fence: 0), ct);
        }, CancellationToken.None);
        return (summary.RowCount, summary.High);
    }

    // The fact key is the first column (the plan puts the primary key first) and a bigint.
    private static List<(long, char)> KeysOf(RecordBatch batch)
    {
        var keys = new List<(long, char)>();
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        for (var row = 0; reader.TryRead(fields, out _, out _); row++)
        {
            var key = BinaryPrimitives.ReadInt64BigEndian(fields[0].Of(batch.Rows));
            keys.Add((key, (char)(batch.Operations?[row] ?? RowOperations.Upsert)));
        }

        return keys;
    }

    private async Task<string> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_scratch.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private async Task<string> DigestAsync(string query)
    {
        await using var connection = new NpgsqlConnection(_scratch.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            $"SELECT count(*) || ' ' || coalesce(md5(string_agg(r::text, '|' ORDER BY r.order_id)), '') FROM (SELECT order_id, user_email, total_amount, item_count, status FROM ({query}) q) r",
            connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static JobSpec Job(string name, string usersQuery = "SELECT id FROM public.orders WHERE customer_id = ANY(@id)", int batchSize = 1000, string usersTable = "public.users")
    {
        var query = string.Join("\n", Query.Split('\n').Select(l => "    " + l));
        var result = JobFile.Parse(
            $"""
            name: {name}
            schedule: continuous
            batch_size: {batchSize}
            source:
              type: postgres
              connection: source
              mode: cdc
              query: |
            {query}
              primary_key: [order_id]
              depends_on:
                - table: public.orders
                  fact_key: [id]
                - table: public.order_items
                  fact_key: [order_id]
                - table: {usersTable}
                  fact_keys_query: "{usersQuery}"
            destination:
              type: postgres
              connection: destination
              table: public.orders_fact
              key: [order_id]
              deletes: delete
            """,
            "derived.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }

    private static ConnectionCatalog Catalog(string connectionString) => new(new ConfigurationBuilder()
        .AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Connections:source"] = connectionString,
            ["Connections:destination"] = connectionString,
        })
        .Build());

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];
}
