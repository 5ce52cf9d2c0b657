using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sync.Batches;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Cdc;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// Batches are cut by size as well as by count (issue 16): 1,000 rows of 150 KB each, read with the
/// default batch_size of 1000, made one 150 MB batch, over RabbitMQ's 128 MiB message limit once
/// base64-encoded, and 16 of them in flight in the Extractor.
/// </summary>
public sealed class BatchBytesTests : IAsyncLifetime
{
    private const int Rows = 1000;

    // 4,800 md5s of 32 characters: 153,600 bytes, different in every row.
    private const string BigValue = "repeat(md5(g::text || '{0}'), 4800)";

    private readonly CdcOptions _options = new() { RunDuration = TimeSpan.FromSeconds(5), IdleEnd = TimeSpan.FromMilliseconds(500), FlushInterval = TimeSpan.FromMilliseconds(200) };
    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("bb_conn");
        await _scratch.ExecuteAsync($"""
            CREATE TABLE big (id bigint PRIMARY KEY, updated_at timestamptz NOT NULL, note text NOT NULL);
            INSERT INTO big SELECT g, now() - interval '1 hour', {string.Format(System.Globalization.CultureInfo.InvariantCulture, BigValue, "a")} FROM generate_series(1, {Rows}) g;
            """);
        _connections = _scratch.Catalog("source", "destination");
        _resilience = new ConnectorResilience(Options.Create(new ConnectorResilienceOptions()), NullLogger<ConnectorResilience>.Instance);
    }

    public async Task DisposeAsync()
    {
        // DROP DATABASE (ScratchDatabase.DropAsync) drops the database's replication slots too; every run here has ended its reader.
        await _connections.DisposeAsync();
        await _scratch.DropAsync();
    }

    [Fact]
    public async Task A_table_of_150_KB_rows_is_cut_into_batches_of_at_most_batch_bytes()
    {
        var job = Job("bb_table", batchBytes: null);
        var batches = new List<(int Rows, int Bytes)>();

        var summary = await new PostgresSource(_connections, _resilience).ExtractAsync(
            job, after: null, (batch, _, _) => Collect(batches, batch), CancellationToken.None);

        Assert.Equal(BatchLimits.DefaultBytes, job.BatchBytes);
        Assert.Equal(Rows, summary.RowCount);
        Assert.Equal(Rows, batches.Sum(b => b.Rows));
        // Every byte of every row, once: no row lost or sent twice at a cut.
        Assert.Equal(await ExpectedBytesAsync(), batches.Sum(b => (long)b.Bytes));
        Assert.All(batches, b => Assert.InRange(b.Bytes, 1, job.BatchBytes));
        Assert.True(batches.Count >= MinimumBatches(await ExpectedBytesAsync(), job.BatchBytes), $"{batches.Count} batches");
        Assert.Equal(batches.Count, summary.BatchCount);
    }

    [Fact]
    public async Task A_row_larger_than_batch_bytes_goes_alone_in_its_own_batch()
    {
        var job = Job("bb_alone", batchBytes: "64KiB");
        var batches = new List<(int Rows, int Bytes)>();

        await new PostgresSource(_connections, _resilience).ExtractAsync(
            job, after: null, (batch, _, _) => Collect(batches, batch), CancellationToken.None);

        Assert.Equal(Rows, batches.Count);
        Assert.All(batches, b => Assert.Equal(1, b.Rows));
        Assert.Equal(await ExpectedBytesAsync(), batches.Sum(b => (long)b.Bytes));
    }

    [Fact]
    public async Task A_row_larger_than_a_message_can_carry_fails_the_extraction_with_the_reason()
    {
        await _scratch.ExecuteAsync("UPDATE big SET note = repeat('x', 65 * 1024 * 1024) WHERE id = 500");
        var job = Job("bb_huge", batchBytes: null);
        var rows = 0;

        var error = await Assert.ThrowsAsync<BatchTooLargeException>(() => new PostgresSource(_connections, _resilience).ExtractAsync(
            job, after: null, (batch, _, _) => { rows += batch.RowCount; return ValueTask.CompletedTask; }, CancellationToken.None));

        Assert.StartsWith("Job bb_huge: a row is 65.0 MiB encoded, more than the 64.0 MiB one batch message can carry", error.Message, StringComparison.Ordinal);
        Assert.True(rows < 500, $"{rows} rows sent before the large one");
    }

    [Fact]
    public async Task A_cdc_copy_and_stream_of_150_KB_rows_are_cut_into_batches_of_at_most_batch_bytes()
    {
        var job = Job("bb_cdc", batchBytes: "2MiB", cdc: true);
        var source = new PostgresChangeSource(_connections, _resilience, Options.Create(_options), NullLogger<PostgresChangeSource>.Instance);
        var copied = new List<(int Rows, int Bytes)>();

        var first = await source.ExtractAsync(job, after: null, fence: 0, (batch, _, _) => Collect(copied, batch), CancellationToken.None);

        Assert.Equal(Rows, copied.Sum(b => b.Rows));
        Assert.Equal(await ExpectedBytesAsync(), copied.Sum(b => (long)b.Bytes));
        Assert.All(copied, b => Assert.InRange(b.Bytes, 1, job.BatchBytes));
        Assert.True(copied.Count >= MinimumBatches(await ExpectedBytesAsync(), job.BatchBytes), $"{copied.Count} batches");

        // 300 rows rewritten in one transaction (46 MB of changes): the transaction is split by size.
        await _scratch.ExecuteAsync($"UPDATE big SET note = {string.Format(System.Globalization.CultureInfo.InvariantCulture, BigValue, "b")} FROM generate_series(1, 300) g WHERE id = g");
        var streamed = new List<(int Rows, int Bytes)>();

        await source.ExtractAsync(job, first.High, fence: 0, (batch, _, _) => Collect(streamed, batch), CancellationToken.None);

        Assert.Equal(300, streamed.Sum(b => b.Rows));
        Assert.All(streamed, b => Assert.InRange(b.Bytes, 1, job.BatchBytes));
        Assert.True(streamed.Count >= MinimumBatches(300L * 153_600, job.BatchBytes), $"{streamed.Count} batches");
    }

    private static ValueTask Collect(List<(int Rows, int Bytes)> batches, RecordBatch batch)
    {
        // Sizes only: holding 150 MB of rows would measure the test, not the source.
        batches.Add((batch.RowCount, batch.Rows.Length));
        return ValueTask.CompletedTask;
    }

    private static int MinimumBatches(long bytes, int batchBytes) => (int)((bytes + batchBytes - 1) / batchBytes);

    // Each row as a COPY tuple: a field count, then per field a length and its bytes (bigint, timestamptz, text).
    private async Task<long> ExpectedBytesAsync() =>
        (long)(await _scratch.ScalarAsync("SELECT sum(2 + 4 + 8 + 4 + 8 + 4 + octet_length(note))::bigint FROM big"))!;

    private static JobSpec Job(string name, string? batchBytes, bool cdc = false)
    {
        var result = JobFile.Parse(
            $"""
            name: {name}
            {(cdc ? "schedule: continuous" : "")}
            batch_size: 1000
            {(batchBytes is null ? "" : $"batch_bytes: {batchBytes}")}
            source:
              type: postgres
              connection: source
              table: public.big
              {(cdc ? "mode: cdc" : "cursor: updated_at")}
              primary_key: [id]
            destination:
              type: postgres
              connection: destination
              table: public.big_copy
            """,
            $"{name}.yml");
        Assert.True(result.IsValid, string.Join(Environment.NewLine, result.Errors));
        return result.Job;
    }
}
