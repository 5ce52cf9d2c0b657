using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Batches;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// Cursors whose values a transaction takes while it runs (a sequence, now() into a timestamp)
/// against real PostgreSQL with a writer's transaction held open across the extraction (issue 13,
/// item 1): the run waits for it and reads its row, or reads nothing and says why; it never moves
/// past a value that a transaction still open holds. Cursor types that cannot be made safe are refused.
/// </summary>
public sealed class CursorSafetyTests : IAsyncLifetime
{
    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("cursor_safety");
        await _scratch.ExecuteAsync("""
            CREATE TABLE readings (id bigint PRIMARY KEY, taken_at timestamp NOT NULL DEFAULT localtimestamp, value integer NOT NULL);
            CREATE TABLE stamped (id bigint PRIMARY KEY, changed_at timestamptz NOT NULL DEFAULT now(), note text NOT NULL);
            CREATE SEQUENCE cached_seq CACHE 20;
            CREATE TABLE cached (id bigint PRIMARY KEY DEFAULT nextval('cached_seq'), note text NOT NULL);
            CREATE TABLE keyed (code text PRIMARY KEY, ref uuid NOT NULL, day date NOT NULL);
            """);
        _connections = _scratch.Catalog("db");
    }

    public async Task DisposeAsync()
    {
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task An_integer_cursor_run_waits_for_the_transaction_holding_a_lower_id_and_reads_its_row()
    {
        var job = await PaymentsAsync("payments_waited");
        await using var late = await OpenWriterAsync("INSERT INTO payments_waited (amount) VALUES (1.00)");
        await _scratch.ExecuteAsync("INSERT INTO payments_waited (amount) VALUES (2.00)");

        var extraction = ExtractAsync(job, after: null, TimeSpan.FromMinutes(2));
        // Without a wait the run reads id 2 alone and its watermark passes id 1 for ever; with it,
        // the run cannot finish before the writer commits, whenever that is.
        await Task.WhenAny(extraction, Task.Delay(TimeSpan.FromSeconds(1)));
        await late.CommitAsync();
        var (ids, high) = await extraction;

        Assert.Equal([1L, 2L], ids);
        Assert.Equal(["2"], high!.Values);
    }

    [Fact]
    public async Task An_integer_cursor_run_past_the_wait_reads_nothing_names_the_transaction_and_the_next_run_gets_every_row()
    {
        var job = await PaymentsAsync("payments_refused");
        await _scratch.ExecuteAsync("INSERT INTO payments_refused (amount) VALUES (1.00), (2.00)");
        var first = await ExtractAsync(job, after: null, TimeSpan.FromSeconds(5));
        await using (var late = await OpenWriterAsync("INSERT INTO payments_refused (amount) VALUES (3.00)"))
        {
            await _scratch.ExecuteAsync("INSERT INTO payments_refused (amount) VALUES (4.00)");
            var refused = await Assert.ThrowsAsync<OpenTransactionsException>(() => ExtractAsync(job, first.High, TimeSpan.FromMilliseconds(300)));
            Assert.Contains("pid ", refused.Message, StringComparison.Ordinal);
            await late.CommitAsync();
        }

        var next = await ExtractAsync(job, first.High, TimeSpan.FromSeconds(5));
        Assert.Equal(2, next.Ids.Count);
        Assert.Equal(await IdsAsync("payments_refused", "payment_id"), first.Ids.Concat(next.Ids).ToList());
    }

    [Fact]
    public async Task A_prepared_transaction_holds_back_an_integer_cursor_until_it_commits()
    {
        var job = await PaymentsAsync("payments_prepared");
        var gid = $"sync_test_{Guid.NewGuid():N}";
        try
        {
            await _scratch.ExecuteAsync($"BEGIN; INSERT INTO payments_prepared (amount) VALUES (5.00); PREPARE TRANSACTION '{gid}'");
            await _scratch.ExecuteAsync("INSERT INTO payments_prepared (amount) VALUES (6.00)");
            var refused = await Assert.ThrowsAsync<OpenTransactionsException>(() => ExtractAsync(job, after: null, TimeSpan.FromMilliseconds(300)));
            Assert.Contains(gid, refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            await _scratch.ExecuteAsync($"COMMIT PREPARED '{gid}'");
        }

        var run = await ExtractAsync(job, after: null, TimeSpan.FromSeconds(5));
        Assert.Equal([1L, 2L], run.Ids);
    }

    [Fact]
    public async Task A_prepared_transaction_holds_back_a_timestamptz_cursor_until_it_commits()
    {
        var job = Job("public.stamped", "changed_at");
        var gid = $"sync_test_{Guid.NewGuid():N}";
        try
        {
            // Stamped with its transaction's start; prepared, it shows in no session's xact_start.
            await _scratch.ExecuteAsync($"BEGIN; INSERT INTO stamped (id, note) VALUES (1, 'prepared'); PREPARE TRANSACTION '{gid}'");
            await _scratch.ExecuteAsync("INSERT INTO stamped (id, note) VALUES (2, 'committed')");
            await Assert.ThrowsAsync<OpenTransactionsException>(() => ExtractAsync(job, after: null, TimeSpan.FromMilliseconds(300)));
        }
        finally
        {
            await _scratch.ExecuteAsync($"COMMIT PREPARED '{gid}'");
        }

        var run = await ExtractAsync(job, after: null, TimeSpan.FromSeconds(5));
        Assert.Equal([1L, 2L], run.Ids.Order());
    }

    [Fact]
    public async Task A_timestamp_without_time_zone_cursor_waits_for_the_transaction_that_stamped_earlier()
    {
        var job = Job("public.readings", "taken_at");
        await using var late = await OpenWriterAsync("INSERT INTO readings (id, value) VALUES (1, 10)");
        await Task.Delay(20);
        await _scratch.ExecuteAsync("INSERT INTO readings (id, value) VALUES (2, 20)");

        var extraction = ExtractAsync(job, after: null, TimeSpan.FromMinutes(2));
        await Task.WhenAny(extraction, Task.Delay(TimeSpan.FromSeconds(1)));
        await late.CommitAsync();
        var (ids, _) = await extraction;

        Assert.Equal([1L, 2L], ids);
    }

    [Fact]
    public async Task A_run_with_nothing_new_neither_waits_nor_moves_its_watermark()
    {
        var job = Job("public.readings", "taken_at");
        await _scratch.ExecuteAsync("INSERT INTO readings (id, value) VALUES (100, 1) ON CONFLICT DO NOTHING");
        var first = await ExtractAsync(job, after: null, TimeSpan.FromSeconds(5));
        await using var idle = await OpenWriterAsync("SELECT 1");

        var again = await ExtractAsync(job, first.High, TimeSpan.FromMilliseconds(100));

        Assert.Empty(again.Ids);
        Assert.Null(again.High);
    }

    [Theory]
    [InlineData("code", "text")]
    [InlineData("ref", "uuid")]
    [InlineData("day", "a date")]
    public async Task A_cursor_whose_values_do_not_grow_with_commits_is_refused_with_the_reason(string cursor, string named)
    {
        var job = Job("public.keyed", cursor) with { Source = new SourceSpec(SourceKind.Postgres, "db", "public.keyed", cursor, ["code"]) };

        var refused = await Assert.ThrowsAsync<SourceSchemaException>(() => ExtractAsync(job, after: null, TimeSpan.FromSeconds(5)));
        var problems = await new JobSchemaCheck(_connections).CheckAsync(job, CancellationToken.None);

        Assert.Contains(named, refused.Message, StringComparison.Ordinal);
        Assert.Contains(problems, p => p.Field == "source.cursor" && p.Message == refused.Message);
    }

    [Fact]
    public async Task A_date_cursor_with_a_lookback_of_a_day_is_read()
    {
        await _scratch.ExecuteAsync("INSERT INTO keyed VALUES ('a', gen_random_uuid(), current_date) ON CONFLICT DO NOTHING");
        var job = Job("public.keyed", "day") with { Source = new SourceSpec(SourceKind.Postgres, "db", "public.keyed", "day", ["code"], Lookback: TimeSpan.FromDays(1)) };

        var run = await ExtractAsync(job, after: null, TimeSpan.FromSeconds(5), keyed: true);

        Assert.NotEmpty(run.Ids);
    }

    [Fact]
    public async Task A_cursor_from_a_sequence_that_caches_values_is_refused_with_the_fix()
    {
        var job = Job("public.cached", "id");

        var refused = await Assert.ThrowsAsync<SourceSchemaException>(() => ExtractAsync(job, after: null, TimeSpan.FromSeconds(5)));
        var problems = await new JobSchemaCheck(_connections).CheckAsync(job, CancellationToken.None);

        Assert.Contains("ALTER SEQUENCE cached_seq CACHE 1", refused.Message, StringComparison.Ordinal);
        Assert.Contains(problems, p => p.Field == "source.cursor");
    }

    /// <summary>A payments table of its own, keyed and followed by a sequence-fed payment_id (CACHE 1, the default).</summary>
    private async Task<JobSpec> PaymentsAsync(string table)
    {
        await _scratch.ExecuteAsync($"CREATE TABLE {table} (payment_id bigserial PRIMARY KEY, amount numeric(10,2) NOT NULL)");
        return Job($"public.{table}", "payment_id", key: "payment_id");
    }

    private static JobSpec Job(string table, string cursor, string key = "id") => new(
        "cursor-safety",
        new SourceSpec(SourceKind.Postgres, "db", table, cursor, [key]),
        new TransformSpec([]),
        new DestinationSpec(DestinationKind.Postgres, "db", "public.unused", ["id"]),
        BatchSize: 1000,
        Schedule: null);

    /// <summary>Extracts the job's rows after <paramref name="after"/>: the first column (the key) of each, in order, and the high position.</summary>
    private async Task<(List<long> Ids, CursorPosition? High)> ExtractAsync(JobSpec job, CursorPosition? after, TimeSpan wait, bool keyed = false)
    {
        var resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
        var source = new PostgresSource(_connections, resilience, Options.Create(new PostgresSourceOptions { OpenTransactionWait = wait }));
        var ids = new List<long>();
        var summary = await source.ExtractAsync(job, after, (batch, _, _) =>
        {
            ids.AddRange(Keys(batch, keyed));
            return ValueTask.CompletedTask;
        }, CancellationToken.None);
        return (ids, summary.High);
    }

    // The key column's values: payments' and the other tables' id, or a count for text-keyed rows.
    private static IEnumerable<long> Keys(RecordBatch batch, bool keyed)
    {
        var keyIndex = batch.Columns.ToList().FindIndex(c => c.Name is "id" or "payment_id");
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        var keys = new List<long>();
        while (reader.TryRead(fields, out _, out _))
        {
            keys.Add(keyed ? keys.Count + 1 : System.Buffers.Binary.BinaryPrimitives.ReadInt64BigEndian(fields[keyIndex].Of(batch.Rows)));
        }

        return keys;
    }

    private async Task<List<long>> IdsAsync(string table, string key)
    {
        await using var connection = new NpgsqlConnection(_scratch.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"SELECT array_agg({key} ORDER BY {key}) FROM {table}", connection);
        return [.. (long[])(await command.ExecuteScalarAsync())!];
    }

    /// <summary>A writer's transaction left open after <paramref name="sql"/>.</summary>
    private async Task<OpenWriter> OpenWriterAsync(string sql)
    {
        var connection = new NpgsqlConnection(_scratch.ConnectionString);
        await connection.OpenAsync();
        var transaction = await connection.BeginTransactionAsync();
        await using (var command = new NpgsqlCommand(sql, connection, transaction))
        {
            await command.ExecuteNonQueryAsync();
        }

        return new OpenWriter(connection, transaction);
    }

    private sealed class OpenWriter(NpgsqlConnection connection, NpgsqlTransaction transaction) : IAsyncDisposable
    {
        public Task CommitAsync() => transaction.CommitAsync();

        public async ValueTask DisposeAsync()
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
        }
    }
}
