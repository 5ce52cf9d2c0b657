using System.Globalization;
using System.Text.Json;
using Sync.EndToEnd.Tests.Failures;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// Jobs through the example C# plugins (examples/Sync.Examples.Transforms) in the four services: the
/// <c>demo_orders</c> source into PostgreSQL, and a table into the <c>jsonl_folder</c> sink, both
/// through the <c>order_tier</c> transform.
/// </summary>
[Collection(ConnectorJobsFixture.Collection)]
public sealed class CodeJobTests(ConnectorJobsFixture fixture)
{
    // DemoOrders: order n has seq n, id n, customer-(n % 97), total (n * 37 % 10000) / 100 (below 100: tier bronze), created 2026-01-01 + n minutes.
    private const string DemoOrders = """
        SELECT g::bigint AS seq, g::int AS id, 'customer-' || g % 97 AS customer, ((g * 37 % 10000) / 100.0)::numeric(12,2) AS total,
               timestamptz '2026-01-01 00:00:00+00' + g * interval '1 minute' AS created_at, 'bronze'::text AS tier
        FROM generate_series(1, 2500) g
        """;

    private SyncDeployment Sync => fixture.Deployment;

    [Fact]
    public async Task A_code_source_loads_every_record_through_a_code_transform_and_the_next_run_reads_none()
    {
        var first = await Sync.RunAsync("demo_orders");

        Assert.True(first.State == "Completed", $"{first.State}: {first.FailureReason}\n{Sync.Logs()}");
        Assert.Equal((2500L, (int?)3, 0L), (first.Inserted, first.ExpectedBatches, first.Errors));
        var loaded = await DigestAsync("SELECT seq, id, customer, total, created_at, tier FROM demo_orders");
        Assert.Equal(await DigestAsync(DemoOrders), loaded);
        Assert.Equal(["2500", "2500"], await fixture.WatermarkAsync("demo_orders"));

        var second = await Sync.RunAsync("demo_orders");

        Assert.True(second.State == "Completed", $"{second.State}: {second.FailureReason}\n{Sync.Logs()}");
        Assert.Equal((0L, (int?)0), (second.Processed, second.ExpectedBatches));
        Assert.Equal(loaded, await DigestAsync("SELECT seq, id, customer, total, created_at, tier FROM demo_orders"));
    }

    [Fact]
    public async Task A_code_sink_gets_the_transformed_records_and_what_the_transform_or_the_sink_refuses_is_a_dead_letter()
    {
        // 250 orders: 13 and 26 are test orders (the transform drops them), 50 and 51 have negative
        // totals (it rejects them), 77 is anonymous (the job blanks its id, which the sink refuses).
        var orders = Enumerable.Range(1, 250).Select(id => (
            Id: (long)id,
            Customer: id is 13 or 26 ? $"test-{id}" : id == 77 ? "anonymous" : $"c{id}",
            Total: id is 50 or 51 ? -(id % 7) - 1m : id * 37 % 2000 + 0.25m)).ToList();
        foreach (var order in orders)
        {
            await OrdersTable.ExecuteAsync(Sync.Source,
                "INSERT INTO shop_orders VALUES ($1, $2, $3, now() - interval '1 hour' + $1 * interval '1 millisecond')", order.Id, order.Customer, order.Total);
        }

        var run = await Sync.RunAsync("orders_jsonl");

        Assert.True(run.State == "Completed", $"{run.State}: {run.FailureReason}\n{Sync.Logs()}");
        Assert.Equal((245L, 3L), (run.Inserted, run.Errors));

        // One file per batch, named by extraction and batch seq, under the job and run.
        var runFolder = Path.Combine(fixture.SinkFolder, "orders_jsonl", run.RunId.ToString("N"));
        var files = Directory.GetFiles(runFolder).Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(["-000001.jsonl", "-000002.jsonl", "-000003.jsonl"], files.Select(f => f[^13..]));
        Assert.Single(files.Select(f => f[..^13]).Distinct());
        var written = files.SelectMany(f => File.ReadAllLines(Path.Combine(runFolder, f)))
            .Select(line => JsonDocument.Parse(line).RootElement)
            .Select(r => (
                OrderId: r.GetProperty("order_id").GetInt64(), Id: r.GetProperty("id").GetInt64(), Customer: r.GetProperty("customer").GetString()!,
                Total: r.GetProperty("total").GetDecimal(), Tier: r.GetProperty("tier").GetString()!))
            .OrderBy(r => r.OrderId)
            .ToList();
        var expected = orders.Where(o => !o.Customer.StartsWith("test-", StringComparison.Ordinal) && o.Total >= 0 && o.Customer != "anonymous")
            .Select(o => (OrderId: o.Id, o.Id, o.Customer, o.Total, Tier: o.Total >= 1000m ? "gold" : o.Total >= 100m ? "silver" : "bronze"))
            .ToList();
        Assert.Equal(expected, written);
        Assert.Contains(written, r => r.Tier == "gold");
        Assert.Contains(written, r => r.Tier == "silver");
        Assert.Contains(written, r => r.Tier == "bronze");

        var letters = (await PoisonItems.DeadLettersAsync(Sync, "job=orders_jsonl")).Select(l => (Order: OrderOf(l), l.Stage, l.Error)).OrderBy(l => l.Order).ToList();
        Assert.Equal(
            [(50L, "transform", "transform order_tier: negative total -2.00"), (51L, "transform", "transform order_tier: negative total -3.00"),
             (77L, "load", "C# sink jsonl_folder: the record has no id")],
            letters);
    }

    // A transform dead letter holds the source record (id); a load one the mapped record (order_id, id blank).
    private static long OrderOf(DeadLetterResult letter) =>
        long.Parse(
            (letter.Record!.Value.TryGetProperty("order_id", out var orderId) ? orderId : letter.Record.Value.GetProperty("id")).GetString()!,
            CultureInfo.InvariantCulture);

    private async Task<string> DigestAsync(string query) =>
        (string)(await OrdersTable.ScalarAsync(Sync.Destination, $"SELECT count(*) || ' ' || md5(string_agg(r::text, '|' ORDER BY r::text)) FROM ({query}) r"))!;
}
