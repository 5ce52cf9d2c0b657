using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Sync.Batches;
using Sync.Connectors.Http;
using Sync.Connectors.Postgres;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Jobs;

namespace Sync.Connectors.Tests;

/// <summary>The http source against a real Kestrel API on loopback that pages, throttles and fails now and then.</summary>
public sealed class HttpSourceTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    private OrdersApi _api = null!;
    private HttpSource _source = null!;
    private ServiceProvider _services = null!;

    public async Task InitializeAsync()
    {
        _api = await OrdersApi.StartAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HttpConnections:orders_api:BaseUrl"] = _api.BaseUrl.ToString(),
            ["HttpConnections:orders_api:AuthSecret"] = OrdersApi.Secret,
        }).Build();
        var resilience = new ConnectorResilience(
            Options.Create(new ConnectorResilienceOptions { RetryDelay = TimeSpan.FromMilliseconds(20), RetryMaxDelay = TimeSpan.FromMilliseconds(100) }),
            NullLogger<ConnectorResilience>.Instance);
        _services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddSingleton(resilience).AddHttpSource().BuildServiceProvider();
        _source = _services.GetRequiredService<HttpSource>();
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        await _api.DisposeAsync();
    }

    [Fact]
    public async Task Every_page_is_read_through_throttling_and_503s_and_a_rerun_reads_only_newer_records()
    {
        for (var id = 1; id <= 130; id++)
        {
            _api.Orders.Enqueue(Order(id, Start.AddSeconds(id)));
        }

        var job = Job();
        var first = await ExtractAsync(job, after: null);

        Assert.Equal(Enumerable.Range(1, 130).Select(i => (long)i), first.Ids);
        Assert.Equal(Enumerable.Range(1, 130).Select(i => i * 1.5m), first.Totals);
        Assert.True(_api.Throttled > 0 && _api.Unavailable > 0, "the API answered every page at once; the test would not exercise 429 or 503");
        Assert.Equal([Format(Start.AddSeconds(130)), "130"], first.Summary.High!.Values);
        Assert.Equal(2, first.Summary.BatchCount);

        for (var id = 131; id <= 175; id++)
        {
            _api.Orders.Enqueue(Order(id, Start.AddSeconds(id)));
        }

        // The API's since filter is inclusive, so it answers record 130 again; the source drops it.
        var second = await ExtractAsync(job, first.Summary.High);

        Assert.Equal(Enumerable.Range(131, 45).Select(i => (long)i), second.Ids);
        Assert.Equal([Format(Start.AddSeconds(175)), "175"], second.Summary.High!.Values);
        Assert.Empty(first.Rejected.Concat(second.Rejected));
    }

    [Fact]
    public async Task A_record_of_the_wrong_type_is_a_dead_letter_and_the_others_load()
    {
        _api.Orders.Enqueue(Order(1, Start.AddSeconds(1)));
        var bad = Order(2, Start.AddSeconds(2));
        bad["amount"]!["total"] = "twelve";
        _api.Orders.Enqueue(bad);
        _api.Orders.Enqueue(JsonValue.Create("not a record"));
        _api.Orders.Enqueue(Order(3, Start.AddSeconds(3)));

        var result = await ExtractAsync(Job(), after: null);

        Assert.Equal([1L, 3L], result.Ids);
        Assert.Equal(2, result.Rejected.Count);
        Assert.All(result.Rejected, r => Assert.Equal(HttpSource.Stage, r.Stage));
        Assert.Contains("amount.total", result.Rejected[0].Error, StringComparison.Ordinal);
        Assert.Contains("\"twelve\"", RecordText(result.Rejected[0]), StringComparison.Ordinal);
        Assert.Equal("\"not a record\"", RecordText(result.Rejected[1]));
    }

    [Fact]
    public async Task A_redirect_on_the_connections_own_origin_is_followed_with_the_secret()
    {
        for (var id = 1; id <= 5; id++)
        {
            _api.Orders.Enqueue(Order(id, Start.AddMinutes(id)));
        }

        var rows = 0L;
        await _source.ExtractAsync(Job("/v1/old-orders"), null, (batch, _, _) =>
        {
            rows += batch.RowCount;
            return default;
        }, CancellationToken.None);

        Assert.Equal(5, rows);
    }

    [Fact]
    public async Task A_redirect_to_another_origin_fails_the_extraction_and_the_secret_never_leaves()
    {
        await using var elsewhere = await OrdersApi.StartAsync();
        elsewhere.Orders.Enqueue(Order(1, Start));
        _api.RedirectTo = new Uri(elsewhere.BaseUrl + "/v1/orders");

        var error = await Assert.ThrowsAsync<SourceSchemaException>(() =>
            _source.ExtractAsync(Job("/v1/moved"), null, (_, _, _) => default, CancellationToken.None));

        Assert.Contains(elsewhere.BaseUrl.GetLeftPart(UriPartial.Authority), error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(OrdersApi.Secret, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(OrdersApi.Secret, elsewhere.Authorizations);
    }

    [Fact]
    public async Task A_wrong_secret_fails_the_extraction_without_retrying_or_naming_the_secret()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HttpConnections:orders_api:BaseUrl"] = _api.BaseUrl.ToString(),
            ["HttpConnections:orders_api:AuthSecret"] = "Bearer wrong-secret",
        }).Build();
        await using var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration)
            .AddSingleton(_services.GetRequiredService<ConnectorResilience>()).AddHttpSource().BuildServiceProvider();

        var error = await Assert.ThrowsAsync<SourceSchemaException>(() =>
            services.GetRequiredService<HttpSource>().ExtractAsync(Job(), null, (_, _, _) => default, CancellationToken.None));

        Assert.Contains("401", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("wrong-secret", error.Message, StringComparison.Ordinal);
    }

    private static JobSpec Job(string path = "/v1/orders")
    {
        var result = JobFile.Parse(
            $$"""
            name: orders_from_api
            batch_size: 100
            source:
              type: http
              connection: orders_api
              path: {{path}}
              records: data.items
              since_param: updated_since
              pagination: { type: cursor, next: meta.next_cursor, param: cursor }
              cursor: updated_at
              primary_key: [id]
              fields:
                id: bigint
                updated_at: timestamptz
                total: { path: amount.total, type: numeric }
                customer: { path: customer.email, type: text }
            destination:
              type: postgres
              connection: warehouse
              table: public.orders
            """,
            "jobs/orders_api.yml");
        Assert.True(result.IsValid, string.Join("\n", result.Errors));
        return result.Job!;
    }

    private static JsonObject Order(int id, DateTimeOffset updatedAt) => new()
    {
        ["id"] = id,
        ["updated_at"] = updatedAt.ToString("O", CultureInfo.InvariantCulture),
        ["amount"] = new JsonObject { ["total"] = id * 1.5m, ["currency"] = "EUR" },
        ["customer"] = new JsonObject { ["email"] = $"c{id}@example.com" },
    };

    private static string Format(DateTimeOffset at) => PgValueText.Format(PgTypes.TimestampTz, PgValueCast.Convert(PgTypes.Text, Encoding.UTF8.GetBytes(at.ToString("O", CultureInfo.InvariantCulture)), PgTypes.TimestampTz));

    private static string RecordText(RejectedRecord rejected)
    {
        var fields = new FieldSlice[1];
        new TupleReader(rejected.Record.Rows).TryRead(fields, out _, out _);
        return Encoding.UTF8.GetString(fields[0].Of(rejected.Record.Rows));
    }

    private async Task<Extracted> ExtractAsync(JobSpec job, CursorPosition? after)
    {
        var ids = new List<long>();
        var totals = new List<decimal>();
        var rejected = new List<RejectedRecord>();
        var summary = await _source.ExtractAsync(job, after, (batch, set, ct) =>
        {
            Assert.Equal(["updated_at", "id", "total", "customer"], batch.Columns.Select(c => c.Name));
            var fields = new FieldSlice[batch.Columns.Count];
            var reader = new TupleReader(batch.Rows);
            while (reader.TryRead(fields, out _, out _))
            {
                ids.Add(long.Parse(PgValueText.Format(20, fields[1].Of(batch.Rows)), CultureInfo.InvariantCulture));
                totals.Add(decimal.Parse(PgValueText.Format(1700, fields[2].Of(batch.Rows)), CultureInfo.InvariantCulture));
            }

            rejected.AddRange(set);
            return default;
        }, CancellationToken.None);
        return new Extracted(ids, totals, rejected, summary);
    }

    private sealed record Extracted(List<long> Ids, List<decimal> Totals, List<RejectedRecord> Rejected, ExtractionSummary Summary);
}
