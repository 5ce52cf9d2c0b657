using System.Buffers.Binary;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using NpgsqlTypes;
using Sync.Batches;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Cdc;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// A cdc job's first copy in chunks (<c>source.range_size</c>, DBLog's watermarks) against real
/// PostgreSQL: under concurrent inserts, updates and deletes across the key space the destination
/// ends equal to the source, the slot is confirmed forward while the copy goes on (its WAL is not
/// held for the whole copy), and a run that dies mid-copy is resumed from the last loaded chunk.
/// </summary>
public sealed class CdcChunkedCopyTests : IAsyncLifetime
{
    private const int Rows = 60_000;
    private const string Digest = "SELECT count(*) || ' ' || coalesce(md5(string_agg(r::text, '|' ORDER BY r.id)), '') FROM (SELECT id, qty, note FROM {0}) r";

    // Short runs, so the copy of 60 chunks spans several of them, as it spans many 10 s runs of a large table.
    private readonly CdcOptions _options = new() { RunDuration = TimeSpan.FromMilliseconds(300), IdleEnd = TimeSpan.FromMilliseconds(300), FlushInterval = TimeSpan.FromMilliseconds(50) };
    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("cdc_chunks");
        await _scratch.ExecuteAsync($"""
            CREATE TABLE items (id bigint PRIMARY KEY, qty integer NOT NULL, note text);
            INSERT INTO items SELECT g, g % 100, 'item ' || g FROM generate_series(1, {Rows}) g;
            CREATE TABLE items_copy (id bigint PRIMARY KEY, qty integer NOT NULL, note text);
            """);
        _connections = new ConnectionCatalog(new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Connections:source"] = _scratch.ConnectionString, ["Connections:destination"] = _scratch.ConnectionString })
            .Build());
        _resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
    }

    public async Task DisposeAsync()
    {
        // DROP DATABASE drops the database's replication slots too; every run here has ended its reader.
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task A_chunked_first_copy_under_churn_ends_equal_to_the_source_and_the_slot_is_confirmed_forward_while_it_copies()
    {
        var job = Job("cdc_chunks_" + Suffix(), rangeSize: 1_000);
        var made = await RunAsync(job, after: null);
        var consistentPoint = CdcCopyPosition.TryRead(made.High)!.Value.Lsn;
        Assert.Equal((0, (long?)null), (made.Rows, CdcCopyPosition.TryRead(made.High)!.Value.Progress!.Value.LastKey));

        using var stopWriting = new CancellationTokenSource();
        var writer = WriteAsync(stopWriting.Token);
        var watermark = made.High;
        var progress = new List<long>();
        var confirmed = new List<NpgsqlLogSequenceNumber>();
        for (var runs = 0; CdcCopyPosition.TryRead(watermark)!.Value.Progress is not null; runs++)
        {
            Assert.True(runs < 200, $"the copy did not finish in 200 runs (at {string.Join(", ", watermark!.Values)}; progress {string.Join(", ", progress)})");
            watermark = (await RunAsync(job, watermark)).High;
            if (CdcCopyPosition.TryRead(watermark)!.Value.Progress is { LastKey: { } key })
            {
                progress.Add(key);
                // The run confirmed the watermark it started from: the slot keeps no WAL before it.
                confirmed.Add(await ConfirmedFlushAsync(job));
            }
        }

        await stopWriting.CancelAsync();
        var written = await writer;
        await CatchUpAsync(job, watermark);

        Assert.True(written > 30, $"the writer committed only {written} transactions");
        // The copy went chunk by chunk over several runs, and the slot moved on while it did.
        Assert.True(progress.Distinct().Count() >= 3, $"the copy's progress over its runs: {string.Join(", ", progress)}");
        Assert.Equal(progress.Order(), progress);
        Assert.True(confirmed.Count(c => c > consistentPoint) >= 2, $"the slot, made at {consistentPoint}, was confirmed only up to {string.Join(", ", confirmed)} while the table was copied");
        Assert.Equal(confirmed.Order(), confirmed);
        Assert.Equal(await DigestAsync("items"), await DigestAsync("items_copy"));
    }

    [Fact]
    public async Task A_copy_that_dies_mid_run_resumes_after_the_last_loaded_chunk_and_ends_equal()
    {
        var job = Job("cdc_chunks_resume_" + Suffix());
        var watermark = (await RunAsync(job, after: null)).High;
        while (CdcCopyPosition.TryRead(watermark)!.Value.Progress is not { LastKey: >= 4_000 })
        {
            watermark = (await RunAsync(job, watermark)).High;
        }

        var copiedTo = CdcCopyPosition.TryRead(watermark)!.Value.Progress!.Value.LastKey!.Value;
        Assert.True(copiedTo < Rows, $"the copy finished before it could be interrupted ({copiedTo})");
        // Changes in chunks loaded and not yet loaded, the deletes among them.
        var changed = new long[] { 10, copiedTo, copiedTo + 1, Rows - 10 };
        await _scratch.ExecuteAsync($"""
            UPDATE items SET qty = -1 WHERE id IN ({string.Join(", ", changed)});
            DELETE FROM items WHERE id IN (11, {copiedTo + 2}, {Rows - 11});
            INSERT INTO items VALUES ({Rows + 5}, 1, 'new');
            """);

        // A run that dies after loading some batches (the Extractor killed): its watermark is never committed.
        var loaded = 0;
        await Assert.ThrowsAsync<InvalidOperationException>(() => ExtractAsync(job, watermark, (_, _) =>
        {
            if (++loaded == 3)
            {
                throw new InvalidOperationException("the Extractor died mid-copy");
            }
        }, CancellationToken.None, new CdcOptions { RunDuration = TimeSpan.FromSeconds(30) }));

        var upserted = new List<long>();
        var resumed = await ExtractAsync(job, watermark, (batch, _) => upserted.AddRange(UpsertedKeys(batch)), CancellationToken.None);
        await CatchUpAsync(job, resumed.High);

        Assert.Equal(3, loaded);
        // Nothing loaded before the watermark's chunk is copied again: the only keys at or below it are the ones the stream changed.
        Assert.Equal([10, copiedTo], upserted.Where(k => k <= copiedTo).Order());
        Assert.Contains(copiedTo + 1, upserted);
        Assert.Equal(await DigestAsync("items"), await DigestAsync("items_copy"));
    }

    [Fact]
    public async Task A_table_without_an_integer_key_is_refused_before_a_slot_is_made()
    {
        await _scratch.ExecuteAsync("CREATE TABLE codes (code text PRIMARY KEY, qty integer); CREATE TABLE codes_copy (code text PRIMARY KEY, qty integer);");
        var job = Job("cdc_chunks_text_" + Suffix(), table: "codes", key: "code");

        var refused = await Assert.ThrowsAsync<SourceSchemaException>(() => RunAsync(job, after: null));

        Assert.Contains("remove range_size", refused.Message, StringComparison.Ordinal);
        Assert.Equal("0", await ScalarAsync($"SELECT count(*)::text FROM pg_replication_slots WHERE slot_name = '{CdcSlot.NameOf(job.Name)}'"));
    }

    /// <summary>
    /// A run confirms its watermark as its stream ends. The stream may be ending already (the chunk
    /// copier stops it when a chunk read fails), and Npgsql fails a status update then: the run must
    /// report what ended the stream, not that (CI, 7 December: a run failed with Npgsql's
    /// NullReferenceException from the status update).
    /// </summary>
    [Fact]
    public async Task Confirming_the_watermark_of_a_stream_that_has_just_stopped_does_not_fail_the_run()
    {
        var name = "cdc_confirm_" + Suffix();
        await _scratch.ExecuteAsync($"CREATE PUBLICATION {name} FOR TABLE items");
        await _scratch.ExecuteAsync($"SELECT pg_create_logical_replication_slot('{name}', 'pgoutput')");
        await using var replication = new LogicalReplicationConnection(_scratch.ConnectionString);
        await replication.Open();
        using var stop = new CancellationTokenSource();
        var stream = replication.StartReplication(new PgOutputReplicationSlot(name), new PgOutputReplicationOptions(name, PgOutputProtocolVersion.V1), stop.Token);
        await using var messages = stream.GetAsyncEnumerator(stop.Token);
        var next = messages.MoveNextAsync().AsTask();
        await Task.Delay(300);
        Assert.False(next.IsCompleted, "the slot has nothing to send, so the stream waits");

        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => next);

        // Npgsql fails a status update on a stream it has stopped; the run's confirmation does not.
        Assert.NotNull(await Record.ExceptionAsync(() => replication.SendStatusUpdate(CancellationToken.None)));
        await PostgresChangeSource.ConfirmAsync(replication);
    }

    private async Task CatchUpAsync(JobSpec job, CursorPosition? watermark)
    {
        // Runs until the watermark passes the server's insert position after the last commit.
        var lastCommit = NpgsqlLogSequenceNumber.Parse(await ScalarAsync("SELECT pg_current_wal_insert_lsn()::text"));
        for (var runs = 0; CdcCopyPosition.TryRead(watermark) is not { Progress: null } at || at.Lsn < lastCommit; runs++)
        {
            Assert.True(runs < 60, $"the job did not catch up (at {string.Join(", ", watermark!.Values)})");
            watermark = (await RunAsync(job, watermark)).High;
        }
    }

    private async Task<long> WriteAsync(CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(_scratch.ConnectionString);
        await connection.OpenAsync(CancellationToken.None);
        var random = new Random(19);
        long transactions = 0;
        var next = Rows + 1_000;
        while (!stop.IsCancellationRequested)
        {
            // Across the whole key space: rows in chunks copied, being copied and not copied yet.
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    Command("UPDATE items SET qty = qty + 1, note = 'updated' WHERE id = $1", random.Next(1, Rows)),
                    Command("DELETE FROM items WHERE id = $1", random.Next(1, Rows)),
                    Command("INSERT INTO items (id, qty, note) VALUES ($1, 1, 'back') ON CONFLICT (id) DO UPDATE SET note = 'kept'", random.Next(1, Rows)),
                    Command("INSERT INTO items (id, qty, note) VALUES ($1, 1, 'new')", next++),
                },
            };
            await batch.ExecuteNonQueryAsync(CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
            transactions++;
            await Task.Delay(10, CancellationToken.None);
        }

        return transactions;

        static NpgsqlBatchCommand Command(string sql, long id) => new(sql) { Parameters = { new NpgsqlParameter { Value = id } } };
    }

    private async Task<(long Rows, CursorPosition? High)> RunAsync(JobSpec job, CursorPosition? after) => await ExtractAsync(job, after, null, CancellationToken.None);

    /// <summary>One run, each batch loaded into the destination as it comes (then shown to <paramref name="loaded"/>).</summary>
    private async Task<(long Rows, CursorPosition? High)> ExtractAsync(
        JobSpec job, CursorPosition? after, Action<RecordBatch, int>? loaded, CancellationToken cancellationToken, CdcOptions? options = null)
    {
        var destination = new PostgresDestination(_connections, _resilience);
        var source = new PostgresChangeSource(_connections, _resilience, Options.Create(options ?? _options), NullLogger<PostgresChangeSource>.Instance);
        var (runId, extractionId, seq) = (Guid.NewGuid(), Guid.NewGuid(), 0);
        var summary = await source.ExtractAsync(job, after, async (batch, _, ct) =>
        {
            seq++;
            await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, seq, batch, Fence: 0), CancellationToken.None);
            loaded?.Invoke(batch, seq);
        }, cancellationToken);
        return (summary.RowCount, summary.High);
    }

    // The id (the first column, a bigint) of every upsert of a change batch.
    private static List<long> UpsertedKeys(RecordBatch batch)
    {
        var keys = new List<long>();
        var fields = new FieldSlice[batch.Columns.Count];
        var reader = new TupleReader(batch.Rows);
        for (var row = 0; reader.TryRead(fields, out _, out _); row++)
        {
            if (batch.Operations?[row] is null or RowOperations.Upsert)
            {
                keys.Add(BinaryPrimitives.ReadInt64BigEndian(fields[0].Of(batch.Rows)));
            }
        }

        return keys;
    }

    private async Task<NpgsqlLogSequenceNumber> ConfirmedFlushAsync(JobSpec job) =>
        NpgsqlLogSequenceNumber.Parse(await ScalarAsync($"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '{CdcSlot.NameOf(job.Name)}'"));

    private Task<string> DigestAsync(string table) => ScalarAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Digest, table));

    private async Task<string> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_scratch.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static JobSpec Job(string name, string table = "items", string key = "id", int rangeSize = 2_000)
    {
        var result = JobFile.Parse(
            $"""
            name: {name}
            schedule: continuous
            batch_size: 1000
            source:
              type: postgres
              connection: source
              table: public.{table}
              mode: cdc
              primary_key: [{key}]
              range_size: {rangeSize}
            destination:
              type: postgres
              connection: destination
              table: public.{table}_copy
              deletes: delete
            """,
            "cdc.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }

    private static string Suffix() => Guid.NewGuid().ToString("N")[..8];
}
