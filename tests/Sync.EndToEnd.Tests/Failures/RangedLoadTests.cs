using System.Diagnostics;
using System.Text.RegularExpressions;
using Sync.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Sync.EndToEnd.Tests.Failures;

/// <summary>
/// A table's initial load in key ranges (<c>source.range_size</c>, issue 19, item 1) shared by two
/// Extractors: one of them is killed (SIGKILL) while it reads a range, held there by a
/// <see cref="SourceGate"/>, after every other range is loaded. The run completes, the destination
/// equals the source, and the Coordinator's records (sync_run_ranges) show that only the range in
/// flight was read again: every range finished before the kill was read once.
/// </summary>
public sealed partial class RangedLoadTests(ITestOutputHelper output)
{
    private const int Rows = 24_000;
    private const int RangeSize = 2_000;
    private const long GatedId = 15_500;

    [Fact]
    public async Task When_an_extractor_dies_mid_range_only_the_ranges_in_flight_are_read_again()
    {
        await using var sync = await SyncDeployment.CreateAsync("ranges");
        sync.SetInstances("Extractor", 2);
        await OrdersTable.CreateAsync(sync.Source, "public.orders_ranges");
        await OrdersTable.CreateAsync(sync.Destination, "public.orders_ranges");
        await OrdersTable.SeedAsync(sync.Source, "public.orders_ranges", 1, Rows);
        await SourceGate.CreateFunctionAsync(sync.Source);
        // The gate holds the read of the range with GatedId only: a range read sets sync.key_from, the plan does not.
        await OrdersTable.ExecuteAsync(sync.Source, $"""
            CREATE VIEW public.orders_gated AS SELECT * FROM public.orders_ranges
            WHERE test_source_gate(id = {GatedId} AND coalesce(current_setting('sync.key_from', true), '') <> '')
            """);
        sync.WriteJob("ranges.yml", $"""
            name: ranges
            batch_size: 500
            source:
              type: postgres
              connection: source
              table: public.orders_gated
              cursor: updated_at
              primary_key: [id]
              range_size: {RangeSize}
            destination:
              type: postgres
              connection: destination
              table: public.orders_ranges
              key: [id]
            """);

        await using var gate = await SourceGate.CloseAsync(sync.Source);
        await sync.StartAsync();
        var runId = await sync.StartRunAsync("ranges");
        await gate.WaitUntilReachedAsync(sync.Logs);
        const int rangeCount = Rows / RangeSize;
        await sync.WaitUntilAsync(
            async () => Convert.ToInt64(await OrdersTable.ScalarAsync(sync.Control,
                "SELECT count(*) FROM sync_run_ranges WHERE run_id = $1 AND loaded_at IS NOT NULL", runId)) == rangeCount - 1,
            "every range but the held one loaded");
        var finished = await RangeReadsAsync(sync, runId, onlyLoaded: true);

        var holder = await GateHolderAsync(sync);
        output.WriteLine($"killing Extractor {holder.Instance} (pid {holder.ProcessId}), which reads the held range");
        await holder.KillAsync();
        await gate.OpenAsync();

        var run = await sync.WaitForRunAsync(runId, TimeSpan.FromMinutes(3));
        Assert.True(run.State == "Completed", $"{run}\n{sync.Logs()}");
        Assert.Equal(await OrdersTable.DigestAsync(sync.Source, "public.orders_ranges"), await OrdersTable.DigestAsync(sync.Destination, "public.orders_ranges"));
        // Each row counted once: the batches the killed read loaded before the kill count with the
        // range's second read, as unchanged (skipped) rows, not twice.
        Assert.Equal((long)Rows, run.Processed);
        Assert.Equal((long)Rows, run.Inserted + run.Updated + run.Skipped);
        Assert.Equal((long)Rows, run.ExtractedRows);

        var reads = await RangeReadsAsync(sync, runId, onlyLoaded: false);
        output.WriteLine(string.Join(", ", reads.Select(r => $"{r.Key}:{r.Value}")));
        Assert.Equal(rangeCount, reads.Count);
        Assert.Equal(rangeCount - 1, finished.Count);
        // Finished before the kill: read once, then never again.
        Assert.All(finished, f => Assert.Equal(1, reads[f.Key]));
        // The range in flight: read by the killed Extractor, then once more by the other.
        var held = Assert.Single(reads.Keys.Except(finished.Keys));
        Assert.Equal(2, reads[held]);

        // The watermark is the last row's position, committed with the run.
        Assert.Equal(
            await OrdersTable.ScalarAsync(sync.Source, "SELECT to_char(max(updated_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') FROM public.orders_ranges"),
            await OrdersTable.ScalarAsync(sync.Control, "SELECT left(cursor->'Values'->>0, 26) FROM sync_watermarks WHERE key = 'ranges'"));
    }

    // Reads per range index, from the Coordinator's records.
    private static async Task<Dictionary<int, int>> RangeReadsAsync(SyncDeployment sync, Guid runId, bool onlyLoaded)
    {
        await using var connection = new Npgsql.NpgsqlConnection(sync.Control);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand(
            $"SELECT range_index, reads FROM sync_run_ranges WHERE run_id = $1{(onlyLoaded ? " AND loaded_at IS NOT NULL" : "")}", connection);
        command.Parameters.Add(new Npgsql.NpgsqlParameter { Value = runId });
        await using var reader = await command.ExecuteReaderAsync();
        var reads = new Dictionary<int, int>();
        while (await reader.ReadAsync())
        {
            reads[reader.GetInt32(0)] = reader.GetInt32(1);
        }

        return reads;
    }

    // The Extractor whose source session waits at the gate: its client port, owned by which process (ss).
    private static async Task<ServiceProcess> GateHolderAsync(SyncDeployment sync)
    {
        var port = Convert.ToInt32(await OrdersTable.ScalarAsync(sync.Source, """
            SELECT a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
            WHERE l.locktype = 'advisory' AND l.objid = 4344 AND NOT l.granted AND a.datname = current_database()
            """));
        var start = new ProcessStartInfo("ss", ["-Htnp", $"sport = :{port}"]) { RedirectStandardOutput = true };
        using var ss = Process.Start(start)!;
        var listing = await ss.StandardOutput.ReadToEndAsync();
        await ss.WaitForExitAsync();
        var pids = ProcessIdPattern().Matches(listing).Select(m => int.Parse(m.Groups[1].Value)).ToHashSet();
        return sync.Services("Extractor").Single(e => e.ProcessId is { } pid && pids.Contains(pid));
    }

    [GeneratedRegex(@"pid=(\d+)")]
    private static partial Regex ProcessIdPattern();
}
