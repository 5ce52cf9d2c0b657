using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sync.Batches;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// A PostgreSQL destination table made and evolved by the Loader under the job's schema contract
/// (destination.schema, issue 18 item 2), against real PostgreSQL.
/// </summary>
public sealed class DestinationTableTests : IAsyncLifetime
{
    // A source that gained a column (day) and widened two (qty integer → bigint, note varchar(10) → text).
    private static readonly BatchColumn[] Widened =
    [
        new("id", 20), new("updated_at", PgTypes.TimestampTz), new("qty", 20), new("note", PgTypes.Text), new("day", PgTypes.Date),
    ];

    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("dt_conn");
        _connections = _scratch.Catalog("db");
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task An_absent_table_is_created_with_the_batch_types_and_a_primary_key_on_the_job_key()
    {
        var batch = SampleBatch.Of(["1", "2026-01-01T00:00:00+00:00", "10.5", "one", "2026-01-01"], ["2", null, null, "two", null]);

        var result = await Destination().LoadAsync(Load(Job("made.orders_copy"), batch), CancellationToken.None);

        Assert.Equal((2, 2), (result.Rows, result.Inserted));
        Assert.Equal(
            "id bigint not null|updated_at timestamp with time zone|total numeric|note text|day date",
            await _scratch.ScalarAsync(
                """
                SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END, '|' ORDER BY attnum)
                FROM pg_attribute WHERE attrelid = 'made.orders_copy'::regclass AND attnum > 0
                """));
        Assert.Equal("id", await _scratch.ScalarAsync(
            "SELECT string_agg(a.attname, ',') FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey) WHERE c.conrelid = 'made.orders_copy'::regclass AND c.contype = 'p'"));
        Assert.Equal("1:one|2:two", await _scratch.ScalarAsync("SELECT string_agg(id || ':' || note, '|' ORDER BY id) FROM made.orders_copy"));
        Assert.StartsWith("created table made.orders_copy", Assert.Single(result.SchemaChanges!), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Loaders_creating_the_same_absent_table_at_once_make_one_table_without_error()
    {
        // Separate destinations are separate Loaders: none knows the table from another's plan. Three
        // tables, as a race without the lock fails only some of the time (42P07 in one attempt of three).
        foreach (var table in new[] { "raced_1", "raced_2", "raced_3" })
        {
            var job = Job($"public.{table}");
            var loads = Enumerable.Range(1, 6).Select(i => Destination().LoadAsync(
                Load(job, SampleBatch.Of([i.ToString(System.Globalization.CultureInfo.InvariantCulture), "2026-01-01T00:00:00+00:00", "1", $"loader {i}", null])),
                CancellationToken.None));

            var results = await Task.WhenAll(loads);

            Assert.All(results, r => Assert.Equal(1, r.Inserted));
            Assert.Equal(1, results.Count(r => r.SchemaChanges is not null));
            Assert.Equal(6L, await _scratch.ScalarAsync($"SELECT count(*) FROM public.{table}"));
        }
    }

    [Fact]
    public async Task Evolve_adds_the_new_column_and_widens_the_narrower_types()
    {
        await _scratch.ExecuteAsync("CREATE TABLE evolving (id bigint PRIMARY KEY, updated_at timestamptz, qty integer, note varchar(10))");
        var batch = SampleBatch.Of(Widened, ["1", "2026-01-01T00:00:00+00:00", "5000000000", "longer than ten characters", "2026-02-01"]);

        var result = await Destination().LoadAsync(Load(Job("public.evolving"), batch), CancellationToken.None);

        Assert.Equal(1, result.Inserted);
        Assert.Equal(
            ["added column \"day\" date", "widened column \"qty\" integer → bigint", "widened column \"note\" character varying → text"],
            result.SchemaChanges);
        Assert.Equal("id bigint|updated_at timestamp with time zone|qty bigint|note text|day date", await ShapeAsync("evolving"));
        Assert.Equal("5000000000|longer than ten characters|2026-02-01", await _scratch.ScalarAsync("SELECT qty || '|' || note || '|' || day FROM evolving"));
    }

    [Fact]
    public async Task Freeze_fails_the_batch_naming_the_new_column_and_leaves_the_table_as_it_is()
    {
        await _scratch.ExecuteAsync("CREATE TABLE frozen (id bigint PRIMARY KEY, updated_at timestamptz, qty bigint, note text)");
        var batch = SampleBatch.Of(Widened, ["1", "2026-01-01T00:00:00+00:00", "1", "one", "2026-02-01"]);

        var failure = await Assert.ThrowsAsync<DestinationSchemaException>(
            () => Destination().LoadAsync(Load(Job("public.frozen", SchemaContract.Freeze), batch), CancellationToken.None));

        Assert.Contains("added column \"day\" date", failure.Message, StringComparison.Ordinal);
        Assert.Contains("destination.schema: freeze", failure.Message, StringComparison.Ordinal);
        Assert.Equal("id bigint|updated_at timestamp with time zone|qty bigint|note text", await ShapeAsync("frozen"));
        Assert.Equal(0L, await _scratch.ScalarAsync("SELECT count(*) FROM frozen"));
    }

    [Fact]
    public async Task Discard_value_loads_the_rows_without_the_values_of_the_unknown_column()
    {
        await _scratch.ExecuteAsync("CREATE TABLE discarding (id bigint PRIMARY KEY, updated_at timestamptz, qty bigint, note text)");
        var batch = SampleBatch.Of(Widened, ["1", "2026-01-01T00:00:00+00:00", "1", "one", "2026-02-01"], ["2", "2026-01-01T00:00:00+00:00", "2", "two", null]);

        var result = await Destination().LoadAsync(Load(Job("public.discarding", SchemaContract.DiscardValue), batch), CancellationToken.None);

        Assert.Equal((2, 2, 0), (result.Rows, result.Inserted, result.Rejected.Count));
        Assert.Equal(["discarded the values of column \"day\" (destination.schema: discard_value)"], result.SchemaChanges);
        Assert.Equal("id bigint|updated_at timestamp with time zone|qty bigint|note text", await ShapeAsync("discarding"));
        Assert.Equal("1:one|2:two", await _scratch.ScalarAsync("SELECT string_agg(id || ':' || note, '|' ORDER BY id) FROM discarding"));
    }

    [Fact]
    public async Task Discard_row_sets_aside_the_rows_with_a_value_in_the_unknown_column()
    {
        await _scratch.ExecuteAsync("CREATE TABLE strict (id bigint PRIMARY KEY, updated_at timestamptz, qty bigint, note text)");
        var batch = SampleBatch.Of(
            Widened,
            ["1", "2026-01-01T00:00:00+00:00", "1", "one", null],
            ["2", "2026-01-01T00:00:00+00:00", "2", "two", "2026-02-01"],
            ["3", "2026-01-01T00:00:00+00:00", "3", "three", null]);

        var result = await Destination().LoadAsync(Load(Job("public.strict", SchemaContract.DiscardRow), batch), CancellationToken.None);

        Assert.Equal((2, 2), (result.Rows, result.Inserted));
        var rejected = Assert.Single(result.Rejected);
        Assert.Equal(1, rejected.RowIndex);
        Assert.Contains("\"day\"", rejected.Error, StringComparison.Ordinal);
        Assert.Equal("1:one|3:three", await _scratch.ScalarAsync("SELECT string_agg(id || ':' || note, '|' ORDER BY id) FROM strict"));
        Assert.Equal("id bigint|updated_at timestamp with time zone|qty bigint|note text", await ShapeAsync("strict"));
    }

    private PostgresDestination Destination() =>
        new(_connections, new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance));

    private static BatchToLoad Load(JobSpec job, RecordBatch batch) => new(job, Guid.NewGuid(), Guid.NewGuid(), 1, batch, Fence: 1);

    private async Task<object?> ShapeAsync(string table) => await _scratch.ScalarAsync(
        $"SELECT string_agg(attname || ' ' || format_type(atttypid, NULL), '|' ORDER BY attnum) FROM pg_attribute WHERE attrelid = '{table}'::regclass AND attnum > 0 AND NOT attisdropped");

    private static JobSpec Job(string table, SchemaContract schema = SchemaContract.Evolve) => new(
        "orders",
        new SourceSpec(SourceKind.Postgres, "db", "public.src", "updated_at", ["id"]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.Postgres, "db", table, ["id"], ConflictStrategy.LatestWins, Schema: schema),
        BatchSize: 1000,
        Schedule: null);
}
