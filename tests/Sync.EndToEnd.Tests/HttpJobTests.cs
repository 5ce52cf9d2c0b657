using System.Globalization;
using System.Text.Json.Nodes;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// An http job through the four services: a paged API on loopback (<see cref="OrdersApi"/>: 40 records a
/// page, a 429 with Retry-After and a 503 on a fixed rhythm, a bearer secret) into PostgreSQL.
/// </summary>
[Collection(ConnectorJobsFixture.Collection)]
public sealed class HttpJobTests(ConnectorJobsFixture fixture)
{
    private const string Job = "orders_from_api";
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    private SyncDeployment Sync => fixture.Deployment;

    private OrdersApi Api => fixture.Api;

    [Fact]
    public async Task Every_page_loads_through_throttling_and_failures_and_the_next_run_asks_since_the_watermark_for_the_changes_only()
    {
        for (var id = 1; id <= 130; id++)
        {
            Api.Orders.Enqueue(Order(id, Start.AddSeconds(id), id * 1.5m));
        }

        var first = await Sync.RunAsync(Job);

        Assert.True(first.State == "Completed", $"{first.State}: {first.FailureReason}\n{Sync.Logs()}");
        Assert.Equal((130L, 130L, (int?)2, 0L), (first.Processed, first.Inserted, first.ExpectedBatches, first.Errors));
        Assert.Equal(Expected(), await DestinationAsync());
        Assert.True(Api.Throttled > 0 && Api.Unavailable > 0, "the API answered every page at once; the run did not go through a 429 or a 503");
        Assert.All(Api.Since, since => Assert.Null(since));
        Assert.Equal((Start.AddSeconds(130).UtcDateTime, "130"), await WatermarkAsync());

        // Three records change (a later updated_at, another total) and 45 are added.
        foreach (var order in Api.Orders.OfType<JsonObject>().Where(o => (int)o["id"]! is 10 or 20 or 30))
        {
            var id = (int)order["id"]!;
            order["updated_at"] = Start.AddSeconds(200 + id).ToString("O", CultureInfo.InvariantCulture);
            order["amount"]!["total"] = id * 2.5m;
        }

        for (var id = 131; id <= 175; id++)
        {
            Api.Orders.Enqueue(Order(id, Start.AddSeconds(id), id * 1.5m));
        }

        Api.Since.Clear();
        var second = await Sync.RunAsync(Job);

        Assert.True(second.State == "Completed", $"{second.State}: {second.FailureReason}\n{Sync.Logs()}");
        // The API's filter is inclusive: it answers record 130 again, which the Extractor drops.
        Assert.Equal((48L, 45L, 3L, 0L), (second.Processed, second.Inserted, second.Updated, second.Errors));
        Assert.Equal(Expected(), await DestinationAsync());
        Assert.NotEmpty(Api.Since);
        Assert.All(Api.Since, since => Assert.Equal(Since(Start.AddSeconds(130)), since));
        Assert.Equal((Start.AddSeconds(230).UtcDateTime, "30"), await WatermarkAsync());

        // The secret went with every request (the API answers 401 without it) and into no service's output.
        Assert.False(string.IsNullOrWhiteSpace(Sync.Service("Extractor").Output), "no service output was captured: the check below would prove nothing");
        foreach (var service in new[] { "Coordinator", "Extractor", "Transformer", "Loader" })
        {
            Assert.DoesNotContain(OrdersApi.Secret["Bearer ".Length..], Sync.Service(service).Output, StringComparison.Ordinal);
        }
    }

    private static JsonObject Order(int id, DateTimeOffset updatedAt, decimal total) => new()
    {
        ["id"] = id,
        ["updated_at"] = updatedAt.ToString("O", CultureInfo.InvariantCulture),
        ["amount"] = new JsonObject { ["total"] = total, ["currency"] = "EUR" },
        ["customer"] = new JsonObject { ["email"] = $"c{id}@example.com" },
    };

    // What the API serves now, as the destination should hold it.
    private List<(long Id, DateTime UpdatedAt, decimal Total, string Customer)> Expected() =>
        [.. Api.Orders.OfType<JsonObject>()
            .Select(o => ((long)(int)o["id"]!, DateTimeOffset.Parse((string)o["updated_at"]!, CultureInfo.InvariantCulture).UtcDateTime,
                (decimal)o["amount"]!["total"]!, (string)o["customer"]!["email"]!))
            .OrderBy(o => o.Item1)];

    private Task<List<(long Id, DateTime UpdatedAt, decimal Total, string Customer)>> DestinationAsync() =>
        ConnectorJobsFixture.QueryAsync(Sync.Destination, "SELECT id, updated_at, total, customer FROM orders_from_api ORDER BY id",
            r => (r.GetInt64(0), r.GetDateTime(1), r.GetDecimal(2), r.GetString(3)));

    private async Task<(DateTime UpdatedAt, string Id)> WatermarkAsync() =>
        Assert.Single(await ConnectorJobsFixture.QueryAsync(
            Sync.Control,
            "SELECT (cursor->'Values'->>0)::timestamptz, cursor->'Values'->>1 FROM sync_watermarks WHERE key = $1",
            r => (r.GetDateTime(0), r.GetString(1)),
            Job));

    // The since parameter's form: ISO 8601 UTC with microseconds.
    private static string Since(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.ffffff'Z'", CultureInfo.InvariantCulture);
}
