using System.Globalization;
using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// A cdc job's first copy in chunks (<c>source.range_size</c>, issue 19) through the four services:
/// while a writer inserts, updates and deletes rows across the whole key space, the copy goes chunk
/// by chunk over several continuous runs, its progress in the watermark (<c>["lsn:…", "copied:KEY"]</c>)
/// that the Coordinator commits; twice a chunk is read while changes it cannot see commit before its
/// high watermark; the Extractor is killed (SIGKILL) in a run that has loaded batches and started
/// again. The destination ends equal to the source, a change after the copy arrives, no run fails,
/// and the copy resumed from the committed watermark rather than from the first key: its key never
/// went back, and every row copied before the kill that no writer touched was offered to the
/// destination exactly once.
/// </summary>
public sealed class CdcChunkedCopyTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Rows = 24_000;
    private const int RangeSize = 2_000;
    private const string Job = "chunked";
    private SyncDeployment _sync = null!;

    public async Task InitializeAsync()
    {
        // Runs of 1 s, so the copy of 12 chunks spans several runs (each run copies until its time is up).
        _sync = await CdcDeployment.CreateAsync("cdcchunks", runDuration: "00:00:01");
        const string Table = "CREATE TABLE items (id bigint PRIMARY KEY, qty integer NOT NULL, note text);";
        await OrdersTable.ExecuteAsync(_sync.Source, $"{Table} INSERT INTO items SELECT g, g % 100, 'item ' || g FROM generate_series(1, {Rows}) g;");
        // Every row the Loader offers (an INSERT … ON CONFLICT fires BEFORE INSERT for each proposed row,
        // conflicting or not), so a row copied twice shows even when its values did not change.
        await OrdersTable.ExecuteAsync(_sync.Destination, $"""
            {Table}
            CREATE TABLE offered (id bigint NOT NULL, qty integer, note text, xact xid8 NOT NULL DEFAULT pg_current_xact_id());
            CREATE FUNCTION offered() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN INSERT INTO offered VALUES (NEW.id, NEW.qty, NEW.note); RETURN NEW; END $$;
            CREATE TRIGGER offered BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION offered();
            """);
        _sync.WriteJob("chunked.yml", $$"""
            name: {{Job}}
            schedule: continuous
            batch_size: 1000
            source: { type: postgres, connection: source, table: public.items, mode: cdc, primary_key: [id], range_size: {{RangeSize}} }
            destination: { type: postgres, connection: destination, table: public.items, deletes: delete }
            """);
        await _sync.StartAsync();
    }

    public async Task DisposeAsync()
    {
        await using (_sync)
        {
            await _sync.ReleaseCdcSlotsAsync();
        }
    }

    [Fact]
    public async Task A_chunked_first_copy_under_churn_survives_a_killed_Extractor_without_starting_over_and_ends_equal()
    {
        using var stopWriting = new CancellationTokenSource();
        var touched = new HashSet<long>();
        var writer = WriteAsync(touched, stopWriting.Token);
        var unseen = new List<long>();
        long copiedAtKill;
        Guid killed;
        Guid[]? loadedBeforeKill = null;
        long transactions;
        try
        {
            unseen.AddRange(await ChangeWhileAChunkIsReadAsync(residue: 3));
            // Part of the table is copied, and committed by the Coordinator, when the Extractor dies in
            // the middle of a run that has loaded batches (chunk rows among them) and waits to read its
            // next chunk. The copy is held at each chunk's read for a while until then (its run's time
            // runs out, and the Coordinator commits what it copied): free, a fast machine copies the
            // rest of the table between two looks (CI, 7 December).
            // The run must not have finished when the Extractor dies. While it copies, a run ends only when
            // its 1 s is up, timed from after the Coordinator started it: so it is killed within its first
            // 800 ms, and the kill counts if the Coordinator has not taken an extraction of it 2 s later
            // (ExtractionCompleted goes straight to the broker); otherwise the Extractor is started again
            // and a later chunk is tried. (A read left waiting for the lock does not tell: a cancelled COPY
            // may leave its backend waiting after the run has completed, CI 7 December.)
            Guid? interrupted = null;
            await WhileAChunkIsReadAsync(async (_, _) =>
            {
                for (var look = 0; look < 30; look++)
                {
                    if (await CopiedKeyAsync() is >= Rows / 4 && await YoungExtractingRunAsync() is { } run)
                    {
                        await _sync.KillServiceAsync("Extractor");
                        await Task.Delay(2_000);
                        if (await OrdersTable.ScalarAsync(_sync.Control, "SELECT extraction_id FROM sync_runs WHERE correlation_id = $1", run) is Guid)
                        {
                            output.WriteLine($"The run ended as the Extractor was killed at copied:{await CopiedKeyAsync()}; trying a later chunk.");
                            await _sync.StartServiceAsync("Extractor");
                            return false;
                        }

                        interrupted = run;
                        loadedBeforeKill = await OrdersTable.ScalarAsync(_sync.Control, "SELECT array_agg(DISTINCT extraction_id) FROM sync_run_batches WHERE run_id = $1", run) as Guid[];
                        return true;
                    }

                    await Task.Delay(50);
                }

                return false;
            });
            killed = interrupted!.Value;
            copiedAtKill = (await CopiedKeyAsync())!.Value;
            Assert.True(copiedAtKill < Rows - RangeSize, $"the copy was nearly done ({copiedAtKill}) before it could be interrupted");
            await Task.Delay(500);
            await _sync.StartServiceAsync("Extractor");
            // Once more after the restart, if a chunk is still to be read: on a fast run the few chunks
            // left after the kill can all be copied before one is caught (CI, 7 December).
            unseen.AddRange(await ChangeWhileAChunkIsReadAsync(residue: 13, unlessCopied: true));

            // The copy finishes while the writer goes on: the watermark is a plain LSN again.
            await WaitUntilAsync(async () => await WatermarkAsync() is [_], "the copy finished");
        }
        finally
        {
            // Also when the test fails: a writer left running keeps the slot decoding its WAL.
            await stopWriting.CancelAsync();
            transactions = await writer;
        }

        await WaitForEqualAsync("the copy under churn");
        // A change after the copy arrives.
        await OrdersTable.ExecuteAsync(_sync.Source, $"UPDATE items SET qty = -7, note = 'after' WHERE id = 17; INSERT INTO items VALUES ({Rows * 10}, 1, 'after'); DELETE FROM items WHERE id = 18");
        touched.UnionWith([17, 18, .. unseen]);
        await WaitForEqualAsync("a change after the copy");
        Assert.Equal("after", await OrdersTable.ScalarAsync(_sync.Destination, "SELECT note FROM items WHERE id = 17"));

        var progress = await CompletedRunsProgressAsync();
        output.WriteLine($"{transactions} writer transactions; killed at copied:{copiedAtKill}; completed runs' copied keys: {string.Join(", ", progress)}");
        Assert.True(transactions > 50, $"the writer committed only {transactions} transactions");
        // Every row at or below the key committed before the kill that the writer never touched was
        // offered once: a copy that started over, or copied a loaded chunk again, offers it twice.
        var touchedBefore = touched.Where(k => k <= copiedAtKill).ToArray();
        var offered = await OrdersTable.ScalarAsync(_sync.Destination, """
            SELECT count(*) || ' rows, ' || count(*) FILTER (WHERE n <> 1) || ' offered more than once'
            FROM (SELECT id, count(*) AS n FROM offered WHERE id <= $1 AND id <> ALL ($2) GROUP BY id) o
            """, copiedAtKill, touchedBefore);
        Assert.True($"{copiedAtKill - touchedBefore.Length} rows, 0 offered more than once" == (string?)offered, $"{offered}, the first: {await OfferedTwiceAsync(copiedAtKill, touchedBefore)}");

        // The copy spanned runs before and after the kill (a run committed a copied key, and the copy
        // finished after the restart), and its key never went back: no run started over. How many runs
        // came before the kill is the machine's speed: in CI on 7 December the one before it recorded 8023,
        // another time two recorded 2004 and 10243; the run after the restart may copy the rest at once
        // (the watermark then goes from copied:KEY to a plain LSN). The connector test counts runs.
        var keys = progress.OfType<long>().ToList();
        Assert.True(keys.Count > 0, $"the copy's progress over its runs: {string.Join(", ", progress)}; killed at {copiedAtKill}");
        Assert.Equal(keys.Order(), keys);

        // The run the kill interrupted is extracted again by the new Extractor (its ExtractBatches was
        // never acknowledged) and completes with that extraction, not the one that loaded batches before
        // the kill (the new one may load none: the copy can be over by then); no run failed.
        var run = await _sync.GetRunAsync(killed);
        Assert.True(run is { State: "Completed" }, $"the run the kill interrupted: {run}");
        Assert.NotEmpty(loadedBeforeKill ?? []);
        var accepted = await OrdersTable.ScalarAsync(_sync.Control, "SELECT extraction_id FROM sync_runs WHERE correlation_id = $1", killed);
        Assert.True(accepted is Guid extraction && !loadedBeforeKill!.Contains(extraction), $"the run took extraction {accepted}; before the kill {string.Join(", ", loadedBeforeKill!)} loaded batches");
        var failed = await OrdersTable.ScalarAsync(_sync.Control, "SELECT string_agg(failure_reason, '; ') FROM sync_runs WHERE job_name = $1 AND current_state = 'Failed'", Job);
        Assert.Null(failed);
    }

    /// <summary>
    /// Holds the table locked until a chunk's read waits for the lock, its snapshot already taken;
    /// meanwhile updates and deletes rows across the whole key space, then commits: changes the read
    /// does not see that commit before its high watermark, so the stream has them before the chunk's
    /// rows, and the copy must leave those rows to the stream. A random writer lands in that window of
    /// a few milliseconds too rarely to count on. Returns the keys changed.
    /// </summary>
    /// <param name="unlessCopied">Give up, changing nothing, once the copy has finished: no chunk is left to read.</param>
    private async Task<long[]> ChangeWhileAChunkIsReadAsync(int residue, bool unlessCopied = false)
    {
        var changed = await WhileAChunkIsReadAsync(
            async (connection, transaction) =>
            {
                await using var change = new NpgsqlCommand(
                    $"UPDATE items SET qty = qty + 1000, note = 'unseen' WHERE id % 40 = {residue}; DELETE FROM items WHERE id % 40 = {residue + 2}", connection, transaction);
                Assert.True(await change.ExecuteNonQueryAsync() > Rows / 40);
                return true;
            },
            unlessCopied);
        return changed ? [.. Enumerable.Range(1, Rows).Where(k => k % 40 == residue || k % 40 == residue + 2).Select(k => (long)k)] : [];
    }

    /// <summary>
    /// Takes the table's lock and waits until a chunk's read waits for it, then calls
    /// <paramref name="act"/> in the lock's transaction, which commits when it returns true; otherwise
    /// lets go, so that read (and only it: the next lock request queues before any later read) goes on,
    /// and tries again. The copy moves one chunk per try.
    /// </summary>
    /// <param name="unlessCopied">Give up, returning false, once the copy has finished.</param>
    private async Task<bool> WhileAChunkIsReadAsync(Func<NpgsqlConnection, NpgsqlTransaction, Task<bool>> act, bool unlessCopied = false)
    {
        // What else waits for the table (a run making the publication, or starting) would wait for as
        // long as the lock is held: let go after a while and try again.
        for (var attempt = 1; attempt <= 80; attempt++)
        {
            await using var connection = new NpgsqlConnection(_sync.Source);
            await connection.OpenAsync();
            await using var transaction = await connection.BeginTransactionAsync();
            await using (var hold = new NpgsqlCommand("LOCK TABLE items IN ACCESS EXCLUSIVE MODE", connection, transaction))
            {
                await hold.ExecuteNonQueryAsync();
            }

            var caught = false;
            for (var wait = 0; wait < 20 && !caught; wait++)
            {
                caught = Convert.ToInt64(await OrdersTable.ScalarAsync(_sync.Source, """
                    SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)
                    WHERE NOT l.granted AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
                      AND l.relation = 'items'::regclass AND a.query LIKE 'COPY (SELECT%'
                    """)) > 0;
                if (!caught)
                {
                    await Task.Delay(50);
                }
            }

            if (caught && await act(connection, transaction))
            {
                await transaction.CommitAsync();
                return true;
            }

            await transaction.RollbackAsync();
            if (unlessCopied && await WatermarkAsync() is [_])
            {
                output.WriteLine("The copy finished before another chunk's read could be caught.");
                return false;
            }

            if (!caught)
            {
                await Task.Delay(300);
            }
        }

        Assert.Fail($"No chunk's read came to wait for the table.{await FailuresAsync()}\n{_sync.Logs()}");
        return false;
    }

    /// <summary>Source transactions of an update, a delete, a re-insert and a new row each, across the key space, until stopped.</summary>
    private async Task<long> WriteAsync(HashSet<long> touched, CancellationToken stop)
    {
        await Task.Yield();
        await using var connection = new NpgsqlConnection(_sync.Source);
        await connection.OpenAsync(CancellationToken.None);
        var random = new Random(19);
        long transactions = 0;
        var next = Rows + 1_000L;
        while (!stop.IsCancellationRequested)
        {
            var (updated, deleted, back) = ((long)random.Next(1, Rows), (long)random.Next(1, Rows), (long)random.Next(1, Rows));
            await using var transaction = await connection.BeginTransactionAsync(CancellationToken.None);
            await using var batch = new NpgsqlBatch(connection, transaction)
            {
                BatchCommands =
                {
                    Command("UPDATE items SET qty = qty + 1, note = 'updated' WHERE id = $1", updated),
                    Command("DELETE FROM items WHERE id = $1", deleted),
                    Command("INSERT INTO items VALUES ($1, 1, 'back') ON CONFLICT (id) DO UPDATE SET note = 'kept'", back),
                    Command("INSERT INTO items VALUES ($1, 1, 'new')", next++),
                },
            };
            await batch.ExecuteNonQueryAsync(CancellationToken.None);
            await transaction.CommitAsync(CancellationToken.None);
            touched.UnionWith([updated, deleted, back]);
            transactions++;
            // A steady pace the four services keep up with on a small machine: a backlog of stream
            // changes delays each chunk's low watermark, and a copy behind a backlog crawls.
            try
            {
                await Task.Delay(20, stop);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        return transactions;

        static NpgsqlBatchCommand Command(string sql, long id) => new(sql) { Parameters = { new NpgsqlParameter { Value = id } } };
    }

    // The first rows offered more than once, each offer with its values and the batch that made it.
    private async Task<object?> OfferedTwiceAsync(long copiedAtKill, long[] touchedBefore) =>
        await OrdersTable.ScalarAsync(_sync.Destination, """
            SELECT string_agg(format('%s (%s, %s) by %s', o.id, o.qty, o.note, coalesce(a.batches, o.xact::text)), '; ' ORDER BY o.id, o.xact)
            FROM offered o
            LEFT JOIN LATERAL (
                SELECT string_agg(format('run %s extraction %s batch %s', b.run_id, b.extraction_id, b.batch_seq), ', ') AS batches
                FROM sync.applied_batches b WHERE b.xmin::text = (o.xact::text::bigint % 4294967296)::text) a ON true
            WHERE o.id IN (SELECT id FROM offered WHERE id <= $1 AND id <> ALL ($2) GROUP BY id HAVING count(*) > 1 ORDER BY id LIMIT 3)
            """, copiedAtKill, touchedBefore);

    /// <summary>The job's run that is extracting, has loaded batches and started less than 800 ms ago, if any.</summary>
    private async Task<Guid?> YoungExtractingRunAsync() =>
        (Guid?)await OrdersTable.ScalarAsync(_sync.Control, """
            SELECT correlation_id FROM sync_runs r
            WHERE job_name = $1 AND current_state = 'Extracting' AND clock_timestamp() - started_at < interval '800 milliseconds'
              AND EXISTS (SELECT FROM sync_run_batches b WHERE b.run_id = r.correlation_id)
            """, Job);

    private async Task<string[]?> WatermarkAsync() =>
        await OrdersTable.ScalarAsync(_sync.Control, "SELECT array(SELECT jsonb_array_elements_text(cursor->'Values')) FROM sync_watermarks WHERE key = $1", Job) as string[];

    /// <summary>The watermark's last copied key; null before the first chunk and once the copy is done.</summary>
    private async Task<long?> CopiedKeyAsync() => CopiedKey(await WatermarkAsync() is [_, var copied] ? copied : null);

    /// <summary>The copied key of each completed run's watermark, in the order they finished (null: none yet, or the copy done).</summary>
    private async Task<List<long?>> CompletedRunsProgressAsync()
    {
        await using var connection = new NpgsqlConnection(_sync.Control);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT high_cursor->'Values'->>1 FROM sync_runs WHERE job_name = $1 AND current_state = 'Completed' ORDER BY finished_at", connection);
        command.Parameters.Add(new NpgsqlParameter { Value = Job });
        await using var reader = await command.ExecuteReaderAsync();
        var progress = new List<long?>();
        while (await reader.ReadAsync())
        {
            progress.Add(CopiedKey(reader.IsDBNull(0) ? null : reader.GetString(0)));
        }

        return progress;
    }

    private static long? CopiedKey(string? copied) =>
        copied is { Length: > 7 } && copied.StartsWith("copied:", StringComparison.Ordinal) ? long.Parse(copied.AsSpan(7), CultureInfo.InvariantCulture) : null;

    private Task WaitForEqualAsync(string when) =>
        _sync.WaitForEqualAsync(when, [DigestComparison.Table("items", "t.id")], diagnostics: FailuresAsync);

    private Task WaitUntilAsync(Func<Task<bool>> condition, string what) => _sync.WaitUntilAsync(condition, what, FailuresAsync);

    private async Task<string> FailuresAsync() =>
        $"\nWatermark: {string.Join(", ", await WatermarkAsync() ?? [])}; failed runs: {await OrdersTable.ScalarAsync(_sync.Control, "SELECT string_agg(failure_reason, '; ') FROM sync_runs WHERE job_name = $1 AND current_state = 'Failed'", Job)}";
}
