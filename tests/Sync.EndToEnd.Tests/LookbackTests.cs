using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// A cursor that clients stamp (a timestamp without time zone here) can commit out of order: a
/// row stamped before the watermark may arrive after the run that set it. source.lookback re-reads
/// that window on every run, and the watermark still never moves back.
/// </summary>
public sealed class LookbackTests
{
    private const string Job = "readings";
    private const int Rows = 2_500;

    [Fact]
    public async Task A_row_stamped_before_the_watermark_but_committed_later_arrives_within_the_lookback()
    {
        await using var sync = await SyncDeployment.CreateAsync("lookback");
        const string table = "CREATE TABLE readings (id bigint PRIMARY KEY, stamped_at timestamp NOT NULL, reading text NOT NULL)";
        await OrdersTable.ExecuteAsync(sync.Source, table);
        await OrdersTable.ExecuteAsync(sync.Destination, table);
        await OrdersTable.ExecuteAsync(sync.Source, $"""
            INSERT INTO readings SELECT g, timestamp '2026-01-01 12:00' + g * interval '1 second', 'reading ' || g FROM generate_series(1, {Rows}) g
            """);
        sync.WriteJob("readings.yml", """
            name: readings
            batch_size: 500
            source:
              type: postgres
              connection: source
              table: public.readings
              cursor: stamped_at
              primary_key: [id]
              lookback: 10m
            destination:
              type: postgres
              connection: destination
              table: public.readings
            """);
        await sync.StartAsync();

        var first = await sync.RunAsync(Job);
        Assert.Equal("Completed", first.State);
        Assert.Equal(Rows, first.Inserted);
        var watermark = await WatermarkAsync(sync);

        // Stamped 5 minutes before the watermark (inside the window) and 20 minutes before it (outside).
        await OrdersTable.ExecuteAsync(sync.Source, $"""
            INSERT INTO readings VALUES
                (10001, timestamp '2026-01-01 12:00' + {Rows} * interval '1 second' - interval '5 minutes', 'late, inside'),
                (10002, timestamp '2026-01-01 12:00' + {Rows} * interval '1 second' - interval '20 minutes', 'late, outside')
            """);
        var second = await sync.RunAsync(Job);

        Assert.Equal("Completed", second.State);
        Assert.Equal(1, second.Inserted);
        Assert.Equal(0, second.Updated);
        // The window's rows were read again and left as they were: 10 minutes of 1-second stamps, and the late one.
        Assert.Equal(601 + 1, second.Processed);
        Assert.Equal(601, second.Skipped);
        Assert.Equal("late, inside", await OrdersTable.ScalarAsync(sync.Destination, "SELECT reading FROM readings WHERE id = 10001"));
        Assert.Null(await OrdersTable.ScalarAsync(sync.Destination, "SELECT reading FROM readings WHERE id = 10002"));
        Assert.Equal(watermark, await WatermarkAsync(sync));

        // The row at the watermark goes away: the window holds only earlier rows, and the watermark stays.
        await OrdersTable.ExecuteAsync(sync.Source, $"DELETE FROM readings WHERE id = {Rows}");
        var third = await sync.RunAsync(Job);

        Assert.Equal("Completed", third.State);
        Assert.Equal(0, third.Inserted + third.Updated);
        Assert.Equal(watermark, await WatermarkAsync(sync));
    }

    private static async Task<string?> WatermarkAsync(SyncDeployment sync) =>
        (string?)await OrdersTable.ScalarAsync(sync.Control, "SELECT cursor::text FROM sync_watermarks WHERE key = $1", Job);
}
