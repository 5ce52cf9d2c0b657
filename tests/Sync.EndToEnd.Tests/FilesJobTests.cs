using System.Globalization;
using Sync.EndToEnd.Tests.Failures;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>Files jobs through the four services: CSV files of a local folder into PostgreSQL, each file read once whatever its modified time.</summary>
[Collection(ConnectorJobsFixture.Collection)]
public sealed class FilesJobTests(ConnectorJobsFixture fixture)
{
    private const string Job = "orders_from_files";

    private SyncDeployment Sync => fixture.Deployment;

    [Fact]
    public async Task Csv_files_load_with_a_malformed_line_as_a_dead_letter_and_the_next_run_reads_only_the_new_file()
    {
        // Modified times in the past, in this order, so no file is left for settling and the order is known.
        var now = DateTime.UtcNow;
        Write("orders/a.csv", """
            id,updated_at,status,order_total
            1,2026-11-01T08:00:00Z,new,10.50
            2,2026-11-01T08:01:00Z,paid,20.00
            3,2026-11-01T08:02:00Z,paid
            4,2026-11-01T08:03:00Z,new,40.25

            """, now.AddMinutes(-10));
        Write("orders/b.csv", """
            id,updated_at,status,order_total
            5,2026-11-01T09:00:00Z,shipped,5.00
            6,2026-11-01T09:01:00Z,new,
            7,2026-11-01T09:02:00Z,paid,7.75

            """, now.AddMinutes(-9));
        Write("orders/notes.txt", "not an orders file\n", now.AddMinutes(-8));

        var first = await Sync.RunAsync(Job);

        Assert.True(first.State == "Completed", $"{first.State}: {first.FailureReason}\n{Sync.Logs()}");
        Assert.Equal((6L, 1L), (first.Inserted, first.Errors));
        Assert.Equal(
            [Row(1, "08:00", "new", 10.50m), Row(2, "08:01", "paid", 20.00m), Row(4, "08:03", "new", 40.25m),
             Row(5, "09:00", "shipped", 5.00m), Row(6, "09:01", "new", null), Row(7, "09:02", "paid", 7.75m)],
            await DestinationAsync());
        var letter = Assert.Single(await PoisonItems.DeadLettersAsync(Sync, $"job={Job}"));
        Assert.Equal(("record", "extract", "pending", first.RunId), (letter.Kind, letter.Stage, letter.Status, letter.RunId));
        Assert.StartsWith("orders/a.csv:4: ", letter.Error, StringComparison.Ordinal);
        Assert.Equal("3,2026-11-01T08:02:00Z,paid", letter.Record!.Value.GetProperty("record").GetString());
        Assert.Equal("orders/b.csv", (await fixture.WatermarkAsync(Job))[1]);

        // A third file, newer than the others: it updates order 2 and adds order 8.
        Write("orders/c.csv", """
            id,updated_at,status,order_total
            2,2026-11-01T10:00:00Z,refunded,0.00
            8,2026-11-01T10:01:00Z,new,80.00

            """, now.AddMinutes(-5));

        var second = await Sync.RunAsync(Job);

        Assert.True(second.State == "Completed", $"{second.State}: {second.FailureReason}\n{Sync.Logs()}");
        // Only c.csv is read: a.csv again would bring its rows and its malformed line back.
        Assert.Equal((2L, 1L, 1L, 0L), (second.Processed, second.Inserted, second.Updated, second.Errors));
        Assert.Equal(
            [Row(1, "08:00", "new", 10.50m), Row(2, "10:00", "refunded", 0.00m), Row(4, "08:03", "new", 40.25m),
             Row(5, "09:00", "shipped", 5.00m), Row(6, "09:01", "new", null), Row(7, "09:02", "paid", 7.75m), Row(8, "10:01", "new", 80.00m)],
            await DestinationAsync());
        Assert.Single(await PoisonItems.DeadLettersAsync(Sync, $"job={Job}"));
        Assert.Equal("orders/c.csv", (await fixture.WatermarkAsync(Job))[1]);
    }

    [Fact]
    public async Task A_file_moved_in_with_a_modified_time_older_than_the_watermark_is_loaded_once()
    {
        const string late = "orders_late_files";
        var now = DateTime.UtcNow;
        Write("late/a.csv", """
            id,updated_at,status,order_total
            1,2026-11-01T08:00:00Z,new,10.50
            2,2026-11-01T08:01:00Z,paid,20.00

            """, now.AddMinutes(-10));
        Write("late/b.csv", """
            id,updated_at,status,order_total
            3,2026-11-01T09:00:00Z,shipped,5.00

            """, now.AddMinutes(-9));
        var first = await Sync.RunAsync(late);
        Assert.True(first.State == "Completed", $"{first.State}: {first.FailureReason}\n{Sync.Logs()}");
        Assert.Equal(3L, first.Inserted);
        var watermark = await fixture.WatermarkAsync(late);
        Assert.Equal("late/b.csv", watermark[1]);

        // Moved (or rsync -t'd, untarred) into the folder after b.csv was read, with its older modified time.
        Write("late/archived.csv", """
            id,updated_at,status,order_total
            2,2026-11-01T10:00:00Z,refunded,0.00
            4,2026-11-01T07:00:00Z,new,40.00

            """, now.AddMinutes(-60));
        var second = await Sync.RunAsync(late);

        Assert.True(second.State == "Completed", $"{second.State}: {second.FailureReason}\n{Sync.Logs()}");
        Assert.Equal((2L, 1L, 1L), (second.Processed, second.Inserted, second.Updated));
        Assert.Equal(
            [Row(1, "08:00", "new", 10.50m), Row(2, "10:00", "refunded", 0.00m), Row(3, "09:00", "shipped", 5.00m), Row(4, "07:00", "new", 40.00m)],
            await DestinationAsync(late));
        // The watermark still names the newest file read, and remembers all three.
        Assert.Equal(watermark, await fixture.WatermarkAsync(late));
        Assert.Equal(
            ["late/a.csv", "late/archived.csv", "late/b.csv"],
            await ConnectorJobsFixture.QueryAsync(
                Sync.Control, "SELECT f->>'Name' FROM sync_watermarks, jsonb_array_elements(cursor->'Files'->'Files') f WHERE key = $1 ORDER BY f->>'Name' COLLATE \"C\"", r => r.GetString(0), late));

        var third = await Sync.RunAsync(late);
        Assert.True(third.State == "Completed", $"{third.State}: {third.FailureReason}\n{Sync.Logs()}");
        Assert.Equal(0L, third.Processed);
    }

    private void Write(string name, string text, DateTime modified)
    {
        var path = Path.Combine(fixture.Inbox, name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        File.SetLastWriteTimeUtc(path, modified);
    }

    private static (long Id, DateTime UpdatedAt, string Status, decimal? Total) Row(long id, string time, string status, decimal? total) =>
        (id, DateTime.Parse($"2026-11-01T{time}:00Z", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal), status, total);

    private Task<List<(long Id, DateTime UpdatedAt, string Status, decimal? Total)>> DestinationAsync(string table = "orders_from_files") =>
        ConnectorJobsFixture.QueryAsync(Sync.Destination, $"SELECT id, updated_at, status, total FROM {table} ORDER BY id",
            r => (r.GetInt64(0), r.GetDateTime(1), r.GetString(2), r.IsDBNull(3) ? (decimal?)null : r.GetDecimal(3)));
}
