using Microsoft.Extensions.Configuration;
using Npgsql;
using Sync.Connectors;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Examples.Transforms;
using Sync.Jobs;

namespace Sync.Transformer.Tests;

/// <summary>
/// The Transformer's transform on batches read from PostgreSQL by binary COPY, with lookups against
/// the same PostgreSQL, written back by binary COPY so the database itself checks every value.
/// </summary>
public sealed class BatchTransformsTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2024, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly BatchColumn[] OrderColumns =
        [new("id", 20), new("updated_at", 1184), new("status", 25), new("total", 1700), new("qty", 23), new("user_id", 20), new("customer", 25)];

    private ScratchDatabase _database = null!;
    private NpgsqlConnection _connection = null!;
    private ConnectionCatalog _catalog = null!;

    public async Task InitializeAsync()
    {
        _database = await ScratchDatabase.CreateAsync("xform");
        await _database.ExecuteAsync("""
            CREATE TABLE users (id bigint PRIMARY KEY, email text);
            INSERT INTO users VALUES (1, 'ann@example.com'), (2, 'bob@example.com'), (3, NULL);
            CREATE TABLE orders (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, status text, total numeric(12,2), qty integer, user_id bigint, customer text);
            INSERT INTO orders VALUES
              (1, '2024-05-01T10:00:00Z', 'paid', 12.34, 2, 1, 'ann'),
              (2, '2024-05-01T10:00:01Z', 'draft', 5.00, 1, 2, 'bob'),
              (3, '2024-05-01T10:00:02Z', 'paid', 1500.50, 0, 99, 'cid'),
              (4, '2024-05-01T10:00:03Z', NULL, 250.00, 5, NULL, 'test-dan'),
              (5, '2024-05-01T10:00:04Z', 'shipped', -1.00, 1, 3, 'eve');
            CREATE TABLE orders_out (id bigint PRIMARY KEY, updated_at timestamptz, status text, total_cents bigint, per_item numeric,
                                     email text, synced_at timestamptz, tier text, customer text, total numeric);
            """);
        _connection = new NpgsqlConnection(_database.ConnectionString);
        await _connection.OpenAsync();
        _catalog = new ConnectionCatalog(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Connections:source"] = _database.ConnectionString })
            .Build());
    }

    public async Task DisposeAsync()
    {
        await _catalog.DisposeAsync();
        await _connection.DisposeAsync();
        await _database.DropAsync();
    }

    [Fact]
    public async Task Computes_filters_looks_up_and_sets_aside_the_records_that_fail()
    {
        var job = Job("""
            columns:
              id: id
              updated_at: updated_at
              status: { expr: "upper(coalesce(status, 'new'))" }
              total_cents: { expr: "round(total * 100)", cast: bigint }
              per_item: { expr: "total / qty" }
              email: user_email
              synced_at: { expr: "now()" }
            filter: "status is null or status <> 'draft'"
            lookups:
              user_email: { table: public.users, key: user_id, match: id, column: email }
            """);

        var outcome = await Transforms().ApplyAsync(job, await OrdersAsync(), CancellationToken.None);
        await PgBatches.WriteAsync(_connection, "orders_out", outcome.Batch);

        Assert.Equal(1, outcome.Filtered);
        var rejected = Assert.Single(outcome.Rejected);
        Assert.Equal((2, "transform", "column per_item: division by zero"), (rejected.RowIndex, rejected.Stage, rejected.Error));
        Assert.Equal(OrderColumns, rejected.Record.Columns);
        Assert.Equal(
            ["1|PAID|1234|6.17|ann@example.com|2024-06-01 12:00:00+00", "4|NEW|25000|50.00|null|2024-06-01 12:00:00+00", "5|SHIPPED|-100|-1.00|null|2024-06-01 12:00:00+00"],
            await PgBatches.RowsAsync(_connection, "SELECT id, status, total_cents, per_item, email, to_char(synced_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS+00') FROM orders_out ORDER BY id"));
    }

    [Fact]
    public async Task An_expression_that_does_not_fit_the_batch_fails_the_batch_naming_the_field()
    {
        var job = Job("columns:\n  id: id\n  updated_at: updated_at\n  total_cents: { expr: \"round(totl * 100)\" }\n");

        var error = await Assert.ThrowsAsync<TransformDefinitionException>(async () => await Transforms().ApplyAsync(job, await OrdersAsync(), CancellationToken.None));

        Assert.Equal("columns.total_cents: \"round(totl * 100)\" at character 7: unknown column \"totl\"", error.Message);
    }

    [Fact]
    public async Task A_lookup_of_a_missing_column_fails_the_batch()
    {
        var job = Job("lookups:\n  user_email: { table: public.users, key: user_id, match: id, column: mail }\n");

        var error = await Assert.ThrowsAsync<TransformDefinitionException>(async () => await Transforms().ApplyAsync(job, await OrdersAsync(), CancellationToken.None));

        Assert.Contains("has no column \"mail\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_csharp_transform_named_by_the_job_adds_drops_and_rejects_records()
    {
        var job = Job("columns:\n  id: id\n  updated_at: updated_at\n  customer: customer\n  total: total\ntransform: { code: order_tier }\n");
        var code = (CodeTransforms)new CodeTransforms().Add(typeof(OrderTier).Assembly);

        var outcome = await Transforms(code).ApplyAsync(job, await OrdersAsync(), CancellationToken.None);
        await PgBatches.WriteAsync(_connection, "orders_out", outcome.Batch);

        Assert.Equal(1, outcome.Filtered);
        var rejected = Assert.Single(outcome.Rejected);
        Assert.Equal((4, "transform order_tier: negative total -1.00"), (rejected.RowIndex, rejected.Error));
        Assert.Equal(OrderColumns, rejected.Record.Columns);
        Assert.Equal(
            ["1|ann|12.34|bronze", "2|bob|5.00|bronze", "3|cid|1500.50|gold"],
            await PgBatches.RowsAsync(_connection, "SELECT id, customer, total, tier FROM orders_out ORDER BY id"));
    }

    [Fact]
    public void A_plugins_folder_whose_assembly_is_loaded_already_registers_its_transforms()
    {
        // The Transformer's own loader skipped such an assembly, so its transforms were missing; it
        // now shares the loader of the C# sources and sinks.
        var assembly = typeof(OrderTier).Assembly;
        var folder = Directory.CreateTempSubdirectory("sync-plugins-").FullName;
        try
        {
            File.Copy(assembly.Location, Path.Combine(folder, Path.GetFileName(assembly.Location)));

            var code = new CodeTransforms().AddFolder(folder).AddFolder(folder);

            Assert.Contains("order_tier", code.Names);
            Assert.IsType<OrderTier>(code.Create("order_tier"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void An_unknown_transform_is_refused_naming_the_registered_ones_and_the_folder_setting()
    {
        var error = Assert.Throws<TransformDefinitionException>(() => new CodeTransforms().Add(typeof(OrderTier).Assembly).Create("order_tiers"));

        Assert.StartsWith("transform.code: no C# transform is registered as \"order_tiers\" (registered: ", error.Message, StringComparison.Ordinal);
        Assert.EndsWith("; put its assembly in the Transformer__Plugins folder", error.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Issue 14, item 2: a cdc batch through computed columns, a filter and lookups. Before, the
    /// operations were dropped, so each delete reached the Loader as an upsert of NULLs.
    /// </summary>
    [Fact]
    public async Task A_change_batch_keeps_each_row_operation_and_passes_deletes_unevaluated_through_filter_and_expressions()
    {
        var job = Job("""
            columns:
              id: id
              updated_at: updated_at
              status: { expr: "upper(coalesce(status, 'new'))" }
              total_cents: { expr: "round(total * 100)", cast: bigint }
              email: user_email
            filter: "status is null or status <> 'draft'"
            lookups:
              user_email: { table: public.users, key: user_id, match: id, column: email }
            """);
        // Rows 2 (a draft the filter would drop) and 5 are deletes: key only, as the cdc source sends them.
        var changes = await ChangesAsync(deletes: [2, 5]);

        var outcome = await Transforms().ApplyAsync(job, changes, CancellationToken.None);
        await PgBatches.WriteAsync(_connection, "orders_out", outcome.Batch);

        Assert.Equal([RowOperations.Upsert, RowOperations.Delete, RowOperations.Upsert, RowOperations.Upsert, RowOperations.Delete], outcome.Batch.Operations ?? []);
        Assert.Equal(0, outcome.Filtered);
        Assert.Empty(outcome.Rejected);
        Assert.Equal(
            ["1|PAID|1234", "2|null|null", "3|PAID|150050", "4|NEW|25000", "5|null|null"],
            await PgBatches.RowsAsync(_connection, "SELECT id, status, total_cents FROM orders_out ORDER BY id"));
    }

    [Fact]
    public async Task A_change_batch_through_a_csharp_transform_keeps_its_deletes_and_their_order()
    {
        var job = Job("columns:\n  id: id\n  updated_at: updated_at\n  customer: customer\n  total: total\ntransform: { code: order_tier }\n");
        var code = (CodeTransforms)new CodeTransforms().Add(typeof(OrderTier).Assembly);
        // Row 5 (negative total: the transform rejects it as a row) is a delete here; row 4 (which it drops) too.
        var changes = await ChangesAsync(deletes: [4, 5]);

        var outcome = await Transforms(code).ApplyAsync(job, changes, CancellationToken.None);
        await PgBatches.WriteAsync(_connection, "orders_out", outcome.Batch);

        Assert.Equal([RowOperations.Upsert, RowOperations.Upsert, RowOperations.Upsert, RowOperations.Delete, RowOperations.Delete], outcome.Batch.Operations ?? []);
        Assert.Empty(outcome.Rejected);
        Assert.Equal(
            ["1|ann|bronze", "2|bob|bronze", "3|cid|gold", "4|null|null", "5|null|null"],
            await PgBatches.RowsAsync(_connection, "SELECT id, customer, tier FROM orders_out ORDER BY id"));
    }

    /// <summary>
    /// Issue 14, item 4: a cdc update that left a large value unchanged comes in a batch without that
    /// column (here: customer). Outputs that read it are left out, so the destination keeps them.
    /// </summary>
    [Fact]
    public async Task A_change_batch_without_a_column_the_mapping_reads_leaves_out_the_outputs_that_read_it()
    {
        var job = Job("""
            columns:
              id: id
              updated_at: updated_at
              status: { expr: "upper(customer || '-' || status)" }
              customer: customer
              total: total
            """);
        var carried = OrderColumns.Where(c => c.Name != "customer").ToArray();
        var changes = await PgBatches.ReadAsync(_connection, "SELECT id, updated_at, status, total, qty, user_id FROM orders WHERE id <= 2 ORDER BY id", carried);

        var outcome = await Transforms().ApplyAsync(job, changes with { Operations = [RowOperations.Upsert, RowOperations.Upsert] }, CancellationToken.None);

        Assert.Equal(["id", "updated_at", "total"], outcome.Batch.Columns.Select(c => c.Name));
        Assert.Empty(outcome.Rejected);
        await PgBatches.WriteAsync(_connection, "orders_out", outcome.Batch);
        Assert.Equal(["1|null|null|12.34", "2|null|null|5.00"], await PgBatches.RowsAsync(_connection, "SELECT id, status, customer, total FROM orders_out ORDER BY id"));
    }

    [Fact]
    public async Task A_change_batch_without_a_column_the_filter_reads_sets_its_upserts_aside_and_keeps_its_deletes()
    {
        var job = Job("""
            columns:
              id: id
              updated_at: updated_at
              total: total
            filter: "customer <> 'bob'"
            """);
        var carried = OrderColumns.Where(c => c.Name != "customer").ToArray();
        var changes = await PgBatches.ReadAsync(_connection, "SELECT id, updated_at, status, total, qty, user_id FROM orders WHERE id <= 3 ORDER BY id", carried);

        var outcome = await Transforms().ApplyAsync(job, changes with { Operations = [RowOperations.Upsert, RowOperations.Delete, RowOperations.Upsert] }, CancellationToken.None);

        Assert.Equal([0, 2], outcome.Rejected.Select(r => r.RowIndex));
        Assert.All(outcome.Rejected, r => Assert.Contains("\"customer\"", r.Error, StringComparison.Ordinal));
        Assert.Equal([RowOperations.Delete], outcome.Batch.Operations ?? []);
        Assert.Equal(["id", "updated_at", "total"], outcome.Batch.Columns.Select(c => c.Name));
    }

    /// <summary>
    /// Issue 14, item 4: the copy a cdc job makes again after a TRUNCATE of some partitions travels as
    /// <see cref="RowOperations.Refresh"/> rows, transformed as upserts (a filter may drop them), then one
    /// <see cref="RowOperations.Sweep"/> row, passed unevaluated; each keeps its operation.
    /// </summary>
    [Fact]
    public async Task A_refresh_copy_is_transformed_as_upserts_and_keeps_its_operations_and_its_sweep()
    {
        var job = Job("""
            columns:
              id: id
              updated_at: updated_at
              status: { expr: "upper(coalesce(status, 'new'))" }
              total_cents: { expr: "round(total * 100)", cast: bigint }
            filter: "status is null or status <> 'draft'"
            """);
        var changes = await ChangesAsync(deletes: [5]);
        changes = changes with { Operations = [RowOperations.Refresh, RowOperations.Refresh, RowOperations.Refresh, RowOperations.Refresh, RowOperations.Sweep] };

        var outcome = await Transforms().ApplyAsync(job, changes, CancellationToken.None);
        await PgBatches.WriteAsync(_connection, "orders_out", outcome.Batch);

        Assert.Equal([RowOperations.Refresh, RowOperations.Refresh, RowOperations.Refresh, RowOperations.Sweep], outcome.Batch.Operations ?? []);
        Assert.Equal(1, outcome.Filtered);
        Assert.Empty(outcome.Rejected);
        Assert.Equal(
            ["1|PAID|1234", "3|PAID|150050", "4|NEW|25000", "5|null|null"],
            await PgBatches.RowsAsync(_connection, "SELECT id, status, total_cents FROM orders_out ORDER BY id"));
    }

    [Fact]
    public async Task A_refresh_copy_through_a_csharp_transform_is_transformed_as_upserts_and_keeps_its_operations()
    {
        var job = Job("columns:\n  id: id\n  updated_at: updated_at\n  customer: customer\n  total: total\ntransform: { code: order_tier }\n");
        var code = (CodeTransforms)new CodeTransforms().Add(typeof(OrderTier).Assembly);
        // Row 4 the transform drops; row 5 (which it would reject) is the sweep here.
        var changes = await ChangesAsync(deletes: [5]);
        changes = changes with { Operations = [RowOperations.Refresh, RowOperations.Refresh, RowOperations.Refresh, RowOperations.Refresh, RowOperations.Sweep] };

        var outcome = await Transforms(code).ApplyAsync(job, changes, CancellationToken.None);
        await PgBatches.WriteAsync(_connection, "orders_out", outcome.Batch);

        Assert.Equal([RowOperations.Refresh, RowOperations.Refresh, RowOperations.Refresh, RowOperations.Sweep], outcome.Batch.Operations ?? []);
        Assert.Empty(outcome.Rejected);
        Assert.Equal(
            ["1|ann|bronze", "2|bob|bronze", "3|cid|gold", "5|null|null"],
            await PgBatches.RowsAsync(_connection, "SELECT id, customer, tier FROM orders_out ORDER BY id"));
    }

    [Fact]
    public async Task A_transform_name_nobody_registered_fails_the_batch()
    {
        var job = Job("transform: { code: nope }\n");

        var error = await Assert.ThrowsAsync<TransformDefinitionException>(async () => await Transforms().ApplyAsync(job, await OrdersAsync(), CancellationToken.None));

        Assert.Contains("no C# transform is registered as \"nope\"", error.Message, StringComparison.Ordinal);
    }

    private BatchTransforms Transforms(CodeTransforms? code = null) => new(_catalog, code ?? new CodeTransforms(), new FixedClock());

    private Task<RecordBatch> OrdersAsync() =>
        PgBatches.ReadAsync(_connection, "SELECT id, updated_at, status, total, qty, user_id, customer FROM orders ORDER BY id", OrderColumns);

    // The orders as a change batch: the rows in <paramref name="deletes"/> are deletes carrying their key alone.
    private async Task<RecordBatch> ChangesAsync(long[] deletes)
    {
        var keyOnly = string.Join(", ", OrderColumns.Skip(1).Select(c => $"CASE WHEN id = ANY('{{{string.Join(",", deletes)}}}'::bigint[]) THEN NULL ELSE {c.Name} END"));
        var batch = await PgBatches.ReadAsync(_connection, $"SELECT id, {keyOnly} FROM orders ORDER BY id", OrderColumns);
        var operations = Enumerable.Range(1, batch.RowCount).Select(id => deletes.Contains(id) ? RowOperations.Delete : RowOperations.Upsert).ToArray();
        return batch with { Operations = operations };
    }

    private static JobSpec Job(string transform)
    {
        var yaml = $"""
            name: orders
            source: {"{"} type: postgres, connection: source, table: orders, cursor: updated_at, primary_key: id {"}"}
            destination: {"{"} type: postgres, connection: source, table: orders_out {"}"}

            """ + transform;
        var result = JobFile.Parse(yaml, "jobs/orders.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }

    private sealed class FixedClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => Now;
    }
}
