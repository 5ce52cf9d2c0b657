using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;
using Sync.Connectors.Postgres;
using Sync.Connectors.Postgres.Cdc;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>
/// mode: cdc against real PostgreSQL (wal_level=logical): the snapshot copy and the stream meet with
/// no gap and no overlap while the source is written to, deletes reach the destination, the slot is
/// never confirmed past the watermark, and a role without REPLICATION is refused with the fix.
/// </summary>
public sealed class CdcSourceTests : IAsyncLifetime
{
    private const string Digest = "SELECT count(*) || ' ' || coalesce(md5(string_agg(r::text, '|' ORDER BY r.id)), '') FROM (SELECT id, qty, note, updated_at FROM {0}) r";

    private readonly CdcOptions _options = new() { RunDuration = TimeSpan.FromSeconds(3), IdleEnd = TimeSpan.FromMilliseconds(300), FlushInterval = TimeSpan.FromMilliseconds(50) };
    private ScratchDatabase _scratch = null!;
    private ConnectionCatalog _connections = null!;
    private ConnectorResilience _resilience = null!;

    public async Task InitializeAsync()
    {
        _scratch = await ScratchDatabase.CreateAsync("cdc_conn");
        await _scratch.ExecuteAsync("""
            CREATE TABLE items (id bigint PRIMARY KEY, qty integer NOT NULL, note text, updated_at timestamptz NOT NULL DEFAULT now());
            INSERT INTO items SELECT g, g % 100, 'item ' || g, now() FROM generate_series(1, 20000) g;
            CREATE TABLE items_copy (id bigint PRIMARY KEY, qty integer NOT NULL, note text, updated_at timestamptz NOT NULL, deleted_at timestamptz);
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
    public async Task Writes_during_the_snapshot_and_after_it_all_arrive_once()
    {
        var job = Job("cdc_handoff_" + Suffix());
        using var stopWriting = new CancellationTokenSource();
        var writer = WriteAsync(stopWriting.Token);

        var watermark = (await RunAsync(job, after: null)).High;
        for (var runs = 0; runs < 3; runs++)
        {
            watermark = (await RunAsync(job, watermark)).High;
        }

        await stopWriting.CancelAsync();
        var written = await writer;
        // Runs until the watermark passes the server's insert position after the last commit: the stream
        // has then caught up with every commit. (A run that found nothing is not that: on a loaded machine
        // a 3 s run can end before the walsender has decoded as far as the job's changes.)
        var lastCommit = NpgsqlTypes.NpgsqlLogSequenceNumber.Parse(await ScalarAsync("SELECT pg_current_wal_insert_lsn()::text"));
        for (var runs = 0; CdcPosition.TryRead(watermark)!.Value < lastCommit && runs < 40; runs++)
        {
            watermark = (await RunAsync(job, watermark)).High;
        }

        Assert.True(written > 50, $"the writer committed only {written} transactions");
        Assert.Equal(await DigestAsync("items"), await DigestAsync("items_copy"));
    }

    [Fact]
    public async Task A_run_whose_changes_were_not_loaded_is_read_again_and_the_slot_is_confirmed_only_up_to_the_watermark()
    {
        var job = Job("cdc_confirm_" + Suffix());
        var snapshot = (await RunAsync(job, after: null)).High;
        await _scratch.ExecuteAsync("UPDATE items SET qty = 1000 WHERE id = 7; DELETE FROM items WHERE id = 8;");

        var lost = await ExtractAsync(job, snapshot, load: false);
        var confirmedBefore = await ConfirmedFlushAsync(job);
        var again = await RunAsync(job, snapshot);
        var empty = await RunAsync(job, again.High);

        Assert.Equal(2, lost.Rows);
        // Both runs end where the server's keepalive said its decoding had got to (WAL of other databases
        // moves it too), so the second, later run ends at or past the first.
        Assert.True(CdcPosition.TryRead(again.High) >= CdcPosition.TryRead(lost.High), $"{again.High} is before {lost.High}");
        Assert.Equal(CdcPosition.TryRead(snapshot), confirmedBefore);
        Assert.Equal(2, again.Rows);
        Assert.Equal(0, empty.Rows);
        Assert.Equal(CdcPosition.TryRead(again.High), await ConfirmedFlushAsync(job));
        Assert.Equal(await DigestAsync("items"), await DigestAsync("items_copy"));
    }

    [Fact]
    public async Task A_quiet_job_in_a_busy_database_moves_its_slot_past_the_other_tables_writes_and_still_gets_its_own_changes()
    {
        var job = Job("cdc_quiet_" + Suffix());
        var snapshot = CdcPosition.TryRead((await RunAsync(job, after: null)).High)!.Value;
        // A table outside the job's publication, written to a lot.
        await _scratch.ExecuteAsync("""
            CREATE TABLE busy (id bigint PRIMARY KEY, payload text);
            INSERT INTO busy SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g;
            """);
        // Past the commit of that insert (the server's next insert position); the update comes after it.
        var busyEnd = NpgsqlTypes.NpgsqlLogSequenceNumber.Parse(await ScalarAsync("SELECT pg_current_wal_insert_lsn()::text"));
        await _scratch.ExecuteAsync("UPDATE busy SET payload = repeat('y', 200)");

        var quiet = await RunAsync(job, CdcPosition.Of(snapshot));
        var moved = CdcPosition.TryRead(quiet.High)!.Value;
        await _scratch.ExecuteAsync("UPDATE items SET qty = 4242 WHERE id = 11");
        var own = await RunAsync(job, quiet.High);

        Assert.Equal(0, quiet.Rows);
        Assert.True(moved >= busyEnd, $"the quiet run stayed at {moved}, before the other table's insert that ended by {busyEnd} (snapshot {snapshot})");
        // The next run confirmed the slot up to it, so the server may let go of that WAL. Its walsender
        // reads that last status update after the run has closed the connection: on a loaded machine the
        // slot shows it a moment later (more than 10 s once in CI, with the end-to-end tests beside it).
        var confirmed = await ConfirmedFlushAsync(job);
        for (var wait = 0; confirmed < moved && wait < 300; wait++)
        {
            await Task.Delay(100);
            confirmed = await ConfirmedFlushAsync(job);
        }

        Assert.True(confirmed >= moved, $"the slot is confirmed up to {confirmed}, not the quiet run's {moved}");
        Assert.Equal(1, own.Rows);
        Assert.Equal(await DigestAsync("items"), await DigestAsync("items_copy"));
    }

    [Fact]
    public async Task A_change_batch_counts_its_deletes_apart_from_its_updates_and_a_redelivery_reports_the_same_counts()
    {
        var job = Job("cdc_counts_" + Suffix());
        await _scratch.ExecuteAsync("INSERT INTO items (id, qty) SELECT g, 1 FROM generate_series(70001, 70004) g");
        var snapshot = (await RunAsync(job, after: null)).High;
        await _scratch.ExecuteAsync("DELETE FROM items WHERE id BETWEEN 70001 AND 70003; UPDATE items SET qty = 2 WHERE id = 70004; INSERT INTO items (id, qty) VALUES (70005, 1);");

        var destination = new PostgresDestination(_connections, _resilience);
        var source = new PostgresChangeSource(_connections, _resilience, Options.Create(_options), NullLogger<PostgresChangeSource>.Instance);
        var (runId, extractionId) = (Guid.NewGuid(), Guid.NewGuid());
        var batches = new List<RecordBatch>();
        var loads = new List<LoadResult>();
        await source.ExtractAsync(job, snapshot, async (batch, _, ct) =>
        {
            batches.Add(batch);
            loads.Add(await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, batches.Count, batch, Fence: 0), ct));
        }, CancellationToken.None);
        var again = new List<LoadResult>();
        for (var seq = 1; seq <= batches.Count; seq++)
        {
            again.Add(await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, seq, batches[seq - 1], Fence: 0), CancellationToken.None));
        }

        Assert.Equal((3, 1, 1, 0, 5), (loads.Sum(l => l.Deleted), loads.Sum(l => l.Updated), loads.Sum(l => l.Inserted), loads.Sum(l => l.Skipped), loads.Sum(l => l.Rows)));
        Assert.All(again, l => Assert.True(l.Replayed));
        Assert.Equal(3, again.Sum(l => l.Deleted));
        Assert.Equal("0", await ScalarAsync("SELECT count(*)::text FROM items_copy WHERE id BETWEEN 70001 AND 70003"));
    }

    [Fact]
    public async Task Every_change_batch_records_its_lag_from_its_oldest_source_commit()
    {
        var job = Job("cdc_lag_" + Suffix());
        var snapshot = (await RunAsync(job, after: null)).High;
        job = job with { BatchSize = 2 };
        var before = DateTimeOffset.UtcNow;
        // Three transactions of two changes: three batches of two, one per transaction.
        await _scratch.ExecuteAsync("UPDATE items SET qty = 501 WHERE id IN (1, 2)");
        await _scratch.ExecuteAsync("UPDATE items SET qty = 502 WHERE id IN (3, 4)");
        await _scratch.ExecuteAsync("UPDATE items SET qty = 503 WHERE id IN (5, 6)");
        var written = DateTimeOffset.UtcNow - before;

        var lags = new System.Collections.Concurrent.ConcurrentQueue<double>();
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Sync" && instrument.Name == "sync.cdc.lag")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<double>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "job", Value: string name } && name == job.Name)
                {
                    lags.Enqueue(value);
                }
            }
        });
        listener.Start();
        var kinds = new List<string>();
        var read = Stopwatch.StartNew();
        var changes = await ExtractAsync(job, snapshot, load: true, kinds: kinds);
        read.Stop();

        Assert.Equal((6, 3), (changes.Rows, kinds.Count));
        // One figure per batch, each no shorter than the time since its commit was seen to end here
        // (0) and no longer than the writes and the whole read.
        Assert.Equal(3, lags.Count);
        Assert.All(lags, lag => Assert.InRange(lag, 0, (written + read.Elapsed).TotalMilliseconds + 1_000));
    }

    [Fact]
    public async Task A_second_first_run_extraction_waits_for_the_copy_and_leaves_the_slot_it_was_copied_in()
    {
        var job = Job("cdc_twice_" + Suffix());
        const long fence = 41;
        var source = new PostgresChangeSource(_connections, _resilience, Options.Create(_options), NullLogger<PostgresChangeSource>.Instance);
        var destination = new PostgresDestination(_connections, _resilience);
        var (runId, extractionId, seq) = (Guid.NewGuid(), Guid.NewGuid(), 0);
        await _scratch.ExecuteAsync("INSERT INTO items (id, qty) VALUES (80010, 1), (80011, 1)");
        var copying = new TaskCompletionSource();
        var goOn = new TaskCompletionSource();
        var first = source.ExtractAsync(job, null, fence, async (batch, _, ct) =>
        {
            await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, ++seq, batch, Fence: 0), ct);
            copying.TrySetResult();
            await goOn.Task;
        }, CancellationToken.None);
        await copying.Task;

        // A redelivered ExtractBatches of the same run while the first copies: it waits for the slot's lock.
        var second = source.ExtractAsync(job, null, fence, (_, _, _) => ValueTask.CompletedTask, CancellationToken.None);
        await WaitForLockWaitAsync();
        await _scratch.ExecuteAsync("UPDATE items SET qty = 4242 WHERE id = 80010; DELETE FROM items WHERE id = 80011; INSERT INTO items (id, qty) VALUES (80001, 1);");
        goOn.SetResult();
        var copied = await first;

        await Assert.ThrowsAsync<CdcSlotTakenException>(() => second);
        // The slot is the one the copy was read in: nothing was confirmed past its consistent point, and
        // the changes made during the copy stream from it.
        Assert.Equal(CdcPosition.TryRead(copied.High), await ConfirmedFlushAsync(job));
        var streamed = await RunAsync(job, copied.High);
        Assert.Equal(3, streamed.Rows);
        Assert.Equal(await DigestAsync("items"), await DigestAsync("items_copy"));
    }

    [Fact]
    public async Task A_first_run_whose_copy_died_is_made_anew_by_its_redelivery_and_an_older_run_leaves_the_slot_alone()
    {
        var job = Job("cdc_died_" + Suffix());
        const long fence = 57;
        var source = new PostgresChangeSource(_connections, _resilience, Options.Create(_options), NullLogger<PostgresChangeSource>.Instance);
        await Assert.ThrowsAnyAsync<Exception>(() => source.ExtractAsync(
            job, null, fence, (_, _, _) => throw new InvalidOperationException("the Extractor died mid-copy"), CancellationToken.None));

        var again = await ExtractAsync(job, after: null, load: true, fence);
        await Assert.ThrowsAsync<CdcSlotTakenException>(() => source.ExtractAsync(job, null, fence - 1, (_, _, _) => ValueTask.CompletedTask, CancellationToken.None));
        // The older run's attempt left the slot the redelivery made.
        Assert.Equal(CdcPosition.TryRead(again.High), await ConfirmedFlushAsync(job));
        await _scratch.ExecuteAsync("INSERT INTO items (id, qty) VALUES (80020, 1)");
        Assert.Equal(1, (await RunAsync(job, again.High)).Rows);
        Assert.Equal(await DigestAsync("items"), await DigestAsync("items_copy"));
    }

    [Fact]
    public async Task An_update_that_leaves_a_large_value_unchanged_keeps_it_in_the_destination()
    {
        // STORAGE EXTERNAL keeps the 6,400-byte value out of line and uncompressed, so an update of
        // another column sends it as "unchanged TOAST" (REPLICA IDENTITY is the default, the key).
        await _scratch.ExecuteAsync("""
            CREATE TABLE docs (id bigint PRIMARY KEY, qty integer NOT NULL, body text);
            ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL;
            CREATE TABLE docs_copy (id bigint PRIMARY KEY, qty integer NOT NULL, body text);
            INSERT INTO docs SELECT g, g, repeat(md5(g::text), 200) FROM generate_series(1, 50) g;
            """);
        var job = Job("cdc_toast_" + Suffix(), table: "docs");
        var snapshot = (await RunAsync(job, after: null)).High;
        await _scratch.ExecuteAsync("""
            UPDATE docs SET qty = qty + 1000 WHERE id <= 10;
            BEGIN;
            UPDATE docs SET qty = -1 WHERE id = 11;
            UPDATE docs SET body = repeat('new', 3000) WHERE id = 12;
            INSERT INTO docs VALUES (51, 51, repeat(md5('x'), 200));
            UPDATE docs SET qty = 5151 WHERE id = 51;
            UPDATE docs SET qty = 1212 WHERE id = 12;
            COMMIT;
            UPDATE docs SET qty = 0 WHERE id = 13;
            DELETE FROM docs WHERE id = 14;
            """);

        var streamed = await RunAsync(job, snapshot);
        var again = await RunAsync(job, streamed.High);

        Assert.Equal(0, again.Rows);
        Assert.Equal(
            await ScalarAsync("SELECT count(*) || ' ' || md5(string_agg(d::text, '|' ORDER BY id)) FROM docs d"),
            await ScalarAsync("SELECT count(*) || ' ' || md5(string_agg(d::text, '|' ORDER BY id)) FROM docs_copy d"));
    }

    [Fact]
    public async Task Columns_added_and_a_type_changed_while_older_changes_are_unread_stream_with_the_columns_of_their_time()
    {
        // The destination has the added note2 but not extra, and qty integer: the Loader adds extra and
        // widens qty (destination.schema: evolve, the default); the columns compared are those of both.
        await _scratch.ExecuteAsync("""
            CREATE TABLE wide (id bigint PRIMARY KEY, qty integer NOT NULL, note text);
            CREATE TABLE wide_copy (id bigint PRIMARY KEY, qty integer NOT NULL, note text, note2 text);
            INSERT INTO wide SELECT g, g, 'row ' || g FROM generate_series(1, 20) g;
            """);
        var job = Job("cdc_alter_" + Suffix(), table: "wide");
        var snapshot = (await RunAsync(job, after: null)).High;
        await _scratch.ExecuteAsync("""
            UPDATE wide SET qty = qty + 100 WHERE id <= 5;
            INSERT INTO wide VALUES (21, 21, 'before');
            DELETE FROM wide WHERE id = 6;
            ALTER TABLE wide ADD COLUMN note2 text, ADD COLUMN extra integer;
            INSERT INTO wide VALUES (22, 22, 'after', 'second', 7);
            UPDATE wide SET note2 = 'set', extra = 1 WHERE id IN (1, 7);
            ALTER TABLE wide ALTER COLUMN qty TYPE bigint;
            UPDATE wide SET qty = 5000000000 - 4999999000 + id WHERE id IN (2, 8, 22);
            INSERT INTO wide VALUES (23, 23, 'last', 'third', 9);
            """);

        var streamed = await RunAsync(job, snapshot);
        var again = await RunAsync(job, streamed.High);

        Assert.Equal(0, again.Rows);
        const string Wide = "SELECT count(*) || ' ' || md5(string_agg(concat_ws(',', id, qty, note, note2), '|' ORDER BY id)) FROM {0}";
        Assert.Equal(await ScalarAsync(Wide.Replace("{0}", "wide", StringComparison.Ordinal)), await ScalarAsync(Wide.Replace("{0}", "wide_copy", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task A_generated_column_is_left_to_the_destination_in_the_copy_and_in_the_stream()
    {
        await _scratch.ExecuteAsync("""
            CREATE TABLE gen (id bigint PRIMARY KEY, qty integer NOT NULL, doubled integer GENERATED ALWAYS AS (qty * 2) STORED);
            CREATE TABLE gen_copy (id bigint PRIMARY KEY, qty integer NOT NULL, doubled integer GENERATED ALWAYS AS (qty * 2) STORED);
            INSERT INTO gen (id, qty) SELECT g, g FROM generate_series(1, 20) g;
            """);
        var job = Job("cdc_generated_" + Suffix(), table: "gen");
        var snapshot = (await RunAsync(job, after: null)).High;
        await _scratch.ExecuteAsync("UPDATE gen SET qty = qty + 100 WHERE id <= 5; INSERT INTO gen (id, qty) VALUES (21, 21); DELETE FROM gen WHERE id = 6;");

        var streamed = await RunAsync(job, snapshot);
        var again = await RunAsync(job, streamed.High);

        Assert.Equal(0, again.Rows);
        Assert.Equal(
            await ScalarAsync("SELECT count(*) || ' ' || md5(string_agg(concat_ws(',', id, qty, doubled), '|' ORDER BY id)) FROM gen"),
            await ScalarAsync("SELECT count(*) || ' ' || md5(string_agg(concat_ws(',', id, qty, doubled), '|' ORDER BY id)) FROM gen_copy"));
    }

    [Theory]
    [InlineData("apply", "101:2,102:1,103:1|101:2,102:1,103:1")]
    [InlineData("ignore", "101:2,102:1,103:1|1:1,2:7,3:3,101:2,102:1,103:1")]
    public async Task A_truncate_of_the_source_table_is_applied_or_ignored_in_stream_order_and_the_job_goes_on(string truncate, string expected)
    {
        var table = "trunc_" + truncate;
        await _scratch.ExecuteAsync($"""
            CREATE TABLE {table} (id bigint PRIMARY KEY, qty integer NOT NULL);
            CREATE TABLE {table}_copy (id bigint PRIMARY KEY, qty integer NOT NULL);
            INSERT INTO {table} SELECT g, g FROM generate_series(1, 3) g;
            """);
        var job = Job($"cdc_{table}_" + Suffix(), $"deletes: delete\n  truncate: {truncate}", table);
        var snapshot = (await RunAsync(job, after: null)).High;
        await _scratch.ExecuteAsync($"""
            INSERT INTO {table} VALUES (101, 1);
            BEGIN;
            UPDATE {table} SET qty = 7 WHERE id = 2;
            TRUNCATE {table};
            INSERT INTO {table} VALUES (102, 1);
            COMMIT;
            INSERT INTO {table} VALUES (103, 1);
            """);

        var watermark = (await RunAsync(job, snapshot)).High;
        await _scratch.ExecuteAsync($"INSERT INTO {table} VALUES (101, 2)");
        // Runs until one finds nothing new: the job went on past the truncate and caught up.
        while ((await RunAsync(job, watermark)) is { Rows: > 0 } run)
        {
            watermark = run.High;
        }

        Assert.Equal(expected, await ScalarAsync($"SELECT (SELECT string_agg(id || ':' || qty, ',' ORDER BY id) FROM {table}) || '|' || (SELECT string_agg(id || ':' || qty, ',' ORDER BY id) FROM {table}_copy)"));
    }

    [Fact]
    public async Task A_truncate_of_some_partitions_copies_the_table_again_after_the_changes_before_it_and_sweeps_only_what_the_source_no_longer_has()
    {
        // Region 1 is never truncated: a trigger records every row of it the destination ever loses, and any TRUNCATE of the destination.
        await _scratch.ExecuteAsync("""
            CREATE TABLE ptrunc (id bigint NOT NULL, region integer NOT NULL, qty integer, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
            CREATE TABLE ptrunc_p1 PARTITION OF ptrunc FOR VALUES IN (1);
            CREATE TABLE ptrunc_p2 PARTITION OF ptrunc FOR VALUES IN (2);
            CREATE TABLE ptrunc_p3 PARTITION OF ptrunc FOR VALUES IN (3);
            CREATE TABLE ptrunc_copy (id bigint NOT NULL, region integer NOT NULL, qty integer, PRIMARY KEY (id, region));
            CREATE TABLE ptrunc_lost (id bigint, region integer);
            CREATE FUNCTION ptrunc_lost() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO ptrunc_lost VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id END, CASE WHEN TG_OP = 'DELETE' THEN OLD.region END);
                RETURN NULL;
            END $$;
            CREATE TRIGGER lost AFTER DELETE ON ptrunc_copy FOR EACH ROW EXECUTE FUNCTION ptrunc_lost();
            CREATE TRIGGER emptied AFTER TRUNCATE ON ptrunc_copy FOR EACH STATEMENT EXECUTE FUNCTION ptrunc_lost();
            INSERT INTO ptrunc SELECT g, 1 + g % 3, g FROM generate_series(1, 30) g;
            """);
        var job = Job("cdc_ptrunc_" + Suffix(), "deletes: delete\n  truncate: apply", "ptrunc", primaryKey: "[id, region]");
        var snapshot = (await RunAsync(job, after: null)).High;
        // Each in a transaction of its own (one command's statements would share one).
        foreach (var statement in new[]
        {
            "INSERT INTO ptrunc VALUES (31, 2, 31)",
            "DELETE FROM ptrunc WHERE id = 3",
            "BEGIN; UPDATE ptrunc SET qty = -1 WHERE id = 1; TRUNCATE ptrunc_p2, ptrunc_p3; INSERT INTO ptrunc VALUES (101, 2, 101); COMMIT",
            "UPDATE ptrunc SET qty = -6 WHERE id = 6",
            "INSERT INTO ptrunc VALUES (102, 3, 102)",
        })
        {
            await _scratch.ExecuteAsync(statement);
        }

        // The changes before the truncate's transaction, then the copy (whose snapshot has the truncate and what followed), then the sweep.
        var kinds = new List<string>();
        var refresh = await ExtractAsync(job, snapshot, load: true, kinds: kinds);
        Assert.Equal(["ud", "r", "s"], kinds);
        const string Rows = "SELECT string_agg(id || ':' || region || ':' || qty, ',' ORDER BY id) FROM {0}";
        Assert.Equal(await ScalarAsync(Rows.Replace("{0}", "ptrunc", StringComparison.Ordinal)), await ScalarAsync(Rows.Replace("{0}", "ptrunc_copy", StringComparison.Ordinal)));
        // Of region 1, only the row the source deleted ever left the destination, and it was never truncated.
        Assert.Equal("3", await ScalarAsync("SELECT coalesce(string_agg(coalesce(id::text, 'truncate'), ',' ORDER BY id), '') FROM ptrunc_lost WHERE region IS NULL OR region = 1"));

        // The job goes on from past the truncate: later changes stream, and nothing is copied again.
        await _scratch.ExecuteAsync("INSERT INTO ptrunc VALUES (103, 2, 103); UPDATE ptrunc SET qty = -9 WHERE id = 9");
        kinds.Clear();
        var watermark = refresh.High;
        while ((await ExtractAsync(job, watermark, load: true, kinds: kinds)) is { Rows: > 0 } run)
        {
            watermark = run.High;
        }

        Assert.DoesNotContain(kinds, k => k.Contains('r', StringComparison.Ordinal) || k.Contains('s', StringComparison.Ordinal));
        Assert.Equal(await ScalarAsync(Rows.Replace("{0}", "ptrunc", StringComparison.Ordinal)), await ScalarAsync(Rows.Replace("{0}", "ptrunc_copy", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Partitions_whose_columns_are_in_another_order_stream_each_with_its_own_columns()
    {
        // p2 was made apart with its columns in another order, then attached: pgoutput describes each
        // partition as a relation of its own, in its own column order.
        await _scratch.ExecuteAsync("""
            CREATE TABLE parts (id bigint NOT NULL, region integer NOT NULL, qty integer, note text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
            CREATE TABLE parts_p1 PARTITION OF parts FOR VALUES IN (1);
            CREATE TABLE parts_p2 (note text, qty integer, region integer NOT NULL, id bigint NOT NULL);
            ALTER TABLE parts ATTACH PARTITION parts_p2 FOR VALUES IN (2);
            CREATE TABLE parts_copy (id bigint NOT NULL, region integer NOT NULL, qty integer, note text, PRIMARY KEY (id, region));
            INSERT INTO parts SELECT g, 1 + g % 2, g, 'row ' || g FROM generate_series(1, 20) g;
            """);
        var job = Job("cdc_parts_" + Suffix(), table: "parts", primaryKey: "[id, region]");
        var snapshot = (await RunAsync(job, after: null)).High;
        await _scratch.ExecuteAsync("""
            UPDATE parts SET qty = qty + 100, note = 'p' || region WHERE id <= 6;
            INSERT INTO parts VALUES (21, 1, 21, 'one'), (22, 2, 22, 'two');
            DELETE FROM parts WHERE id IN (7, 8);
            """);

        var watermark = (await RunAsync(job, snapshot)).High;
        while ((await RunAsync(job, watermark)) is { Rows: > 0 } run)
        {
            watermark = run.High;
        }

        const string Parts = "SELECT count(*) || ' ' || md5(string_agg(concat_ws(',', id, region, qty, note), '|' ORDER BY id)) FROM {0}";
        Assert.Equal(await ScalarAsync(Parts.Replace("{0}", "parts", StringComparison.Ordinal)), await ScalarAsync(Parts.Replace("{0}", "parts_copy", StringComparison.Ordinal)));
    }

    private async Task WaitForLockWaitAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (await ScalarAsync("SELECT count(*)::text FROM pg_stat_activity WHERE datname = current_database() AND wait_event = 'advisory'") == "0")
        {
            Assert.True(DateTime.UtcNow < deadline, "the second extraction never waited on the slot's lock");
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task Soft_delete_stamps_the_deleted_row_and_keeps_it()
    {
        var job = Job("cdc_soft_" + Suffix(), "deletes: soft-delete\n  soft_delete_column: deleted_at");
        var snapshot = (await RunAsync(job, after: null)).High;
        await _scratch.ExecuteAsync("DELETE FROM items WHERE id IN (11, 12); INSERT INTO items (id, qty) VALUES (50001, 1);");

        await RunAsync(job, snapshot);

        Assert.Equal("11,12", await ScalarAsync("SELECT string_agg(id::text, ',' ORDER BY id) FROM items_copy WHERE deleted_at IS NOT NULL"));
        Assert.Equal(await ScalarAsync("SELECT count(*)::text FROM items"), await ScalarAsync("SELECT count(*)::text FROM items_copy WHERE deleted_at IS NULL"));
    }

    [Fact]
    public async Task A_run_streams_its_whole_time_after_the_server_decodes_again_the_WAL_its_slot_keeps_before_the_watermark()
    {
        var job = Job("cdc_redecode_" + Suffix());
        var watermark = (await RunAsync(job, after: null)).High;
        // In another database a transaction that wrote and stays open holds the slot's restart point
        // (decoding keeps WAL back to the oldest open transaction of any database); 150 MB written there
        // after it is what every new replication connection decodes again before the watermark.
        var busy = await ScratchDatabase.CreateAsync("cdc_busy");
        try
        {
            await busy.ExecuteAsync("CREATE TABLE held (id integer); CREATE TABLE pad (id integer, note text);");
            await using var holder = new NpgsqlConnection(busy.ConnectionString);
            await holder.OpenAsync();
            await using var open = await holder.BeginTransactionAsync();
            await using (var write = new NpgsqlCommand("INSERT INTO held VALUES (1)", holder, open))
            {
                await write.ExecuteNonQueryAsync();
            }

            await busy.ExecuteAsync("INSERT INTO pad SELECT g, repeat('x', 1000) FROM generate_series(1, 150000) g");
            await _scratch.ExecuteAsync("UPDATE items SET note = 'past the pad' WHERE id = 1");
            for (var runs = 0; await ScalarAsync("SELECT note FROM items_copy WHERE id = 1") != "past the pad"; runs++)
            {
                Assert.True(runs < 10, "the change after the pad did not arrive in 10 runs");
                watermark = (await RunAsync(job, watermark)).High;
            }

            var before = CdcPosition.TryRead(watermark)!.Value;
            var kept = await ScalarAsync($"SELECT pg_wal_lsn_diff('{before}', restart_lsn)::bigint::text FROM pg_replication_slots WHERE slot_name = '{CdcSlot.NameOf(job.Name)}'");
            Assert.True(long.Parse(kept, System.Globalization.CultureInfo.InvariantCulture) > 100L << 20, $"the slot keeps only {kept} bytes before the watermark");

            // A run far shorter than that decoding still streams its time once the server has caught up.
            await _scratch.ExecuteAsync("UPDATE items SET note = 'after the decoding' WHERE id = 2");
            var run = await ExtractAsync(job, watermark, load: true, options: new CdcOptions { RunDuration = TimeSpan.FromMilliseconds(10), IdleEnd = _options.IdleEnd, FlushInterval = _options.FlushInterval });

            Assert.Equal("after the decoding", await ScalarAsync("SELECT note FROM items_copy WHERE id = 2"));
            Assert.True(CdcPosition.TryRead(run.High)!.Value > before, $"the run ended at {run.High} (from {before})");
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await busy.DropAsync();
        }
    }

    [Fact]
    public async Task A_role_without_replication_is_refused_with_the_fix()
    {
        var role = "cdc_norepl_" + Suffix();
        await _scratch.ExecuteAsync($"CREATE ROLE {role} LOGIN PASSWORD 'norepl'; GRANT SELECT ON items TO {role};");
        try
        {
            var connection = new NpgsqlConnectionStringBuilder(_scratch.ConnectionString) { Username = role, Password = "norepl" }.ConnectionString;
            await using var catalog = Catalog(connection);
            var source = new PostgresChangeSource(catalog, _resilience, Options.Create(_options), NullLogger<PostgresChangeSource>.Instance);

            var refused = await Assert.ThrowsAsync<SourceSchemaException>(() =>
                source.ExtractAsync(Job("cdc_norepl"), null, (_, _, _) => ValueTask.CompletedTask, CancellationToken.None));

            Assert.Contains($"ALTER ROLE \"{role}\" WITH REPLICATION", refused.Message, StringComparison.Ordinal);
        }
        finally
        {
            NpgsqlConnection.ClearAllPools();
            await _scratch.ExecuteAsync($"DROP OWNED BY {role}; DROP ROLE {role};");
        }
    }

    private async Task<long> WriteAsync(CancellationToken stop)
    {
        await using var connection = new NpgsqlConnection(_scratch.ConnectionString);
        await connection.OpenAsync(CancellationToken.None);
        var random = new Random(5);
        long transactions = 0;
        var next = 100_000;
        while (!stop.IsCancellationRequested)
        {
            // One transaction of several kinds of change, some touching the same row twice.
            var id = random.Next(1, 20_000);
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    Command("UPDATE items SET qty = qty + 1, updated_at = clock_timestamp() WHERE id = $1", id),
                    Command("INSERT INTO items (id, qty, note) VALUES ($1, 1, 'new')", next),
                    Command("UPDATE items SET note = 'changed twice' WHERE id = $1", next),
                    Command("DELETE FROM items WHERE id = $1", id + 1),
                },
            };
            next++;
            await batch.ExecuteNonQueryAsync(CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
            transactions++;
        }

        return transactions;

        static NpgsqlBatchCommand Command(string sql, long id) => new(sql) { Parameters = { new NpgsqlParameter { Value = id } } };
    }

    private async Task<(long Rows, CursorPosition? High)> RunAsync(JobSpec job, CursorPosition? after) => await ExtractAsync(job, after, load: true);

    /// <param name="kinds">Gets, per batch in order, the distinct operations of its rows (as "ud", "r", "s").</param>
    private async Task<(long Rows, CursorPosition? High)> ExtractAsync(
        JobSpec job, CursorPosition? after, bool load, long fence = 0, List<string>? kinds = null, CdcOptions? options = null)
    {
        var destination = new PostgresDestination(_connections, _resilience);
        var source = new PostgresChangeSource(_connections, _resilience, Options.Create(options ?? _options), NullLogger<PostgresChangeSource>.Instance);
        var (runId, extractionId, seq) = (Guid.NewGuid(), Guid.NewGuid(), 0);
        var summary = await source.ExtractAsync(job, after, fence, async (batch, _, ct) =>
        {
            seq++;
            kinds?.Add(new string([.. (batch.Operations ?? []).Distinct().Select(o => (char)o)]));
            if (load)
            {
                await destination.LoadAsync(new BatchToLoad(job, runId, extractionId, seq, batch, Fence: 0), ct);
            }
        }, CancellationToken.None);
        return (summary.RowCount, summary.High);
    }

    private async Task<NpgsqlTypes.NpgsqlLogSequenceNumber?> ConfirmedFlushAsync(JobSpec job)
    {
        var text = await ScalarAsync($"SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '{CdcSlot.NameOf(job.Name)}'");
        return NpgsqlTypes.NpgsqlLogSequenceNumber.Parse(text);
    }

    private Task<string> DigestAsync(string table) => ScalarAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, Digest, table));

    private async Task<string> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_scratch.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private static JobSpec Job(string name, string deletes = "deletes: delete", string table = "items", string columns = "", string primaryKey = "[id]")
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
              primary_key: {primaryKey}
            destination:
              type: postgres
              connection: destination
              table: public.{table}_copy
              {deletes}
            {columns}
            """,
            "cdc.yml");
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
