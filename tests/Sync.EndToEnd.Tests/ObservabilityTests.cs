using System.Security.Cryptography;
using System.Text.Json;
using Npgsql;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// One deployment exporting traces by OTLP to a collector in the test, with a database role and an
/// API key of its own whose secrets must never reach the services' output: a run is one trace
/// across the four services, the Coordinator's /metrics shows the run, every log line of the run
/// carries its run id.
/// </summary>
public sealed class ObservabilityFixture : IAsyncLifetime
{
    public const string Job = "orders-obs";
    public const int Rows = 2000;

    public string Role { get; } = $"obs_{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6))}";

    public string Password { get; } = $"pw-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";

    public string ApiKey { get; } = $"key-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";

    public string HttpSecret { get; } = $"Bearer tok-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";

    public OtlpCollector Collector { get; private set; } = null!;

    public SyncDeployment Deployment { get; private set; } = null!;

    public RunResult Run { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Collector = await OtlpCollector.StartAsync();
        // A role of this test's own, so its password is a string nothing else prints (the shared one is "sync").
        await OrdersTable.ExecuteAsync(TestInfrastructure.ConnectionString("postgres"), $"CREATE ROLE {Role} LOGIN SUPERUSER PASSWORD '{Password}'");
        Deployment = await SyncDeployment.CreateAsync("obs");
        await OrdersTable.CreateAsync(Deployment.Source, "orders_obs");
        await OrdersTable.CreateAsync(Deployment.Destination, "orders_obs");
        await OrdersTable.SeedAsync(Deployment.Source, "orders_obs", 1, Rows);
        Deployment.WriteJob("orders_obs.yml", OrdersTable.Job(Job, "orders_obs", batchSize: 500));

        Deployment.SetEnvironment("ConnectionStrings__Control", AsRole(Deployment.Control));
        Deployment.SetEnvironment("Connections__source", AsRole(Deployment.Source));
        Deployment.SetEnvironment("Connections__destination", AsRole(Deployment.Destination));
        Deployment.SetEnvironment("Coordinator__ApiKey", ApiKey);
        Deployment.SetEnvironment("HttpConnections__unused_api__BaseUrl", "http://127.0.0.1:9");
        Deployment.SetEnvironment("HttpConnections__unused_api__AuthSecret", HttpSecret);
        Deployment.SetEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", Collector.Endpoint);
        Deployment.SetEnvironment("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
        Deployment.SetEnvironment("OTEL_BSP_SCHEDULE_DELAY", "200");
        Deployment.SetEnvironment("OTEL_METRIC_EXPORT_INTERVAL", "1000");
        // Per-batch lines are Debug; the run's lines must carry its scope at every level.
        Deployment.SetEnvironment("Logging__LogLevel__Sync", "Debug");
        Deployment.Http.DefaultRequestHeaders.Add("X-Api-Key", ApiKey);
        await Deployment.StartAsync();
        Run = await Deployment.RunAsync(Job);
    }

    public async Task DisposeAsync()
    {
        await Deployment.DisposeAsync();
        await Collector.DisposeAsync();
        NpgsqlConnection.ClearAllPools();
        await OrdersTable.ExecuteAsync(TestInfrastructure.ConnectionString("postgres"), $"DROP ROLE IF EXISTS {Role}");
    }

    private string AsRole(string connectionString) =>
        new NpgsqlConnectionStringBuilder(connectionString) { Username = Role, Password = Password }.ConnectionString;
}

public sealed class ObservabilityTests(ObservabilityFixture fixture) : IClassFixture<ObservabilityFixture>
{
    private static readonly string[] Services = ["sync-coordinator", "sync-extractor", "sync-transformer", "sync-loader"];

    private SyncDeployment Deployment => fixture.Deployment;

    private string RunId => fixture.Run.RunId.ToString();

    [Fact]
    public async Task A_run_is_one_trace_across_the_four_services_with_database_calls_as_children()
    {
        Assert.Equal("Completed", fixture.Run.State);
        Assert.Equal(ObservabilityFixture.Rows, fixture.Run.Inserted);

        // The exporters send every 200 ms; wait until the last stage's spans of the run have arrived.
        var spans = await WaitForAsync(() =>
        {
            var all = fixture.Collector.Spans;
            var root = all.FirstOrDefault(IsRunRoot);
            if (root is null)
            {
                return null;
            }

            var trace = all.Where(s => s.TraceId == root.TraceId).ToList();
            return Services.All(service => trace.Any(s => s.Service == service && s.Attribute("sync.run_id") == RunId))
                && trace.Any(s => s.Service == "sync-loader" && s.Scope == "Npgsql")
                && trace.Where(s => s.Service == "sync-coordinator").Select(s => s.Attribute("sync.batch_seq")).OfType<string>().Distinct().Count() == 4
                    ? all
                    : null;
        }, DescribeSpans);

        // The run's trace starts at the Coordinator's root span of the run, and nowhere else.
        var runRoot = Assert.Single(spans, IsRunRoot);
        Assert.Equal("", runRoot.ParentSpanId);
        Assert.Equal(ObservabilityFixture.Job, runRoot.Attribute("sync.job"));
        Assert.Equal("api", runRoot.Attribute("sync.trigger"));

        // Every span any service tagged with the run's id is in that trace: one run, one trace id.
        var tagged = spans.Where(s => s.Attribute("sync.run_id") == RunId).ToList();
        Assert.Equal([runRoot.TraceId], tagged.Select(s => s.TraceId).Distinct());
        Assert.Equal(Services.Order(), tagged.Select(s => s.Service).Distinct().Order());
        Assert.All(tagged, s => Assert.Equal(ObservabilityFixture.Job, s.Attribute("sync.job")));
        // The batches: 2000 rows in batches of 500, each with its sequence number on the Loader's span.
        Assert.Equal(["1", "2", "3", "4"], tagged.Where(s => s.Service == "sync-loader").Select(s => s.Attribute("sync.batch_seq")).OfType<string>().Distinct().Order());

        // PostgreSQL calls are child spans inside the run's trace: the saga's writes and the Loader's upserts.
        var trace = spans.Where(s => s.TraceId == runRoot.TraceId).ToList();
        var spanIds = trace.Select(s => s.SpanId).ToHashSet();
        foreach (var service in new[] { "sync-coordinator", "sync-loader" })
        {
            var database = trace.Where(s => s.Service == service && s.Scope == "Npgsql").ToList();
            Assert.NotEmpty(database);
            Assert.All(database, s => Assert.Contains(s.ParentSpanId, spanIds));
        }
    }

    [Fact]
    public async Task The_coordinator_metrics_endpoint_shows_the_run()
    {
        var metrics = await WaitForAsync(async () =>
        {
            var text = await Deployment.Http.GetStringAsync("/metrics");
            return text.Contains("sync_watermark_lag_seconds{", StringComparison.Ordinal) && text.Contains("sync_queue_depth{", StringComparison.Ordinal) ? text : null;
        });

        var lines = metrics.Split('\n');
        Assert.Equal(1, Value(lines, "sync_runs_total{", "sync_job=\"orders-obs\"", "sync_state=\"Completed\""));
        Assert.Equal(ObservabilityFixture.Rows, Value(lines, "sync_run_rows_total{", "sync_job=\"orders-obs\"", "sync_result=\"inserted\""));
        Assert.Equal(0, Value(lines, "sync_run_rows_total{", "sync_job=\"orders-obs\"", "sync_result=\"failed\""));
        Assert.Equal(1, Value(lines, "sync_run_duration_seconds_count{", "sync_job=\"orders-obs\""));
        // The seeded rows are stamped a day back, so the committed watermark is about a day old.
        var lag = Value(lines, "sync_watermark_lag_seconds{", "sync_job=\"orders-obs\"");
        Assert.InRange(lag, TimeSpan.FromHours(23).TotalSeconds, TimeSpan.FromHours(25).TotalSeconds);
        // The run is over: every stage's queue is empty.
        foreach (var queue in new[] { "extract-batches", "transform-batch", "load-batch", "sync-run-state" })
        {
            Assert.Equal(0, Value(lines, "sync_queue_depth{", $"sync_queue=\"{queue}\""));
        }
    }

    [Fact]
    public void Log_lines_of_the_run_carry_its_id_in_scope_fields_and_no_secret_is_printed()
    {
        foreach (var service in new[] { "Coordinator", "Extractor", "Transformer", "Loader" })
        {
            var output = Deployment.Service(service).Output;
            var scoped = JsonLines(output).Where(line => Scopes(line).Any(scope => Field(scope, "RunId") == RunId)).ToList();
            Assert.True(scoped.Count > 0, $"No log line of the {service} carries RunId {RunId} in its scopes:\n{Tail(output)}");
            Assert.All(scoped, line => Assert.Contains(Scopes(line), scope => Field(scope, "Job") == ObservabilityFixture.Job));
            if (service is "Transformer" or "Loader")
            {
                Assert.Contains(scoped, line => Scopes(line).Any(scope => Field(scope, "BatchSeq") is not null));
            }

            Assert.DoesNotContain(fixture.Password, output, StringComparison.Ordinal);
            Assert.DoesNotContain(fixture.ApiKey, output, StringComparison.Ordinal);
            Assert.DoesNotContain(fixture.HttpSecret, output, StringComparison.Ordinal);
        }
    }

    private bool IsRunRoot(CollectedSpan span) =>
        span.Service == "sync-coordinator" && span.Scope == "Sync" && span.Attribute("sync.run_id") == RunId && span.Name.StartsWith("sync run", StringComparison.Ordinal);

    private static double Value(string[] lines, string metric, params string[] labels)
    {
        var line = lines.SingleOrDefault(l => l.StartsWith(metric, StringComparison.Ordinal) && labels.All(label => l.Contains(label, StringComparison.Ordinal)))
            ?? throw new Xunit.Sdk.XunitException($"No {metric}…{string.Join(",", labels)} in /metrics:\n{string.Join('\n', lines.Where(l => l.StartsWith("sync_", StringComparison.Ordinal)))}");
        return double.Parse(line[(line.LastIndexOf('}') + 1)..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static IEnumerable<JsonElement> JsonLines(string output)
    {
        foreach (var line in output.Split('\n'))
        {
            if (!line.StartsWith('{'))
            {
                continue;
            }

            JsonElement element;
            try
            {
                element = JsonDocument.Parse(line).RootElement;
            }
            catch (JsonException)
            {
                continue;
            }

            yield return element;
        }
    }

    private static IEnumerable<JsonElement> Scopes(JsonElement line) =>
        line.TryGetProperty("Scopes", out var scopes) && scopes.ValueKind == JsonValueKind.Array ? scopes.EnumerateArray() : [];

    private static string? Field(JsonElement scope, string name) =>
        scope.ValueKind == JsonValueKind.Object && scope.TryGetProperty(name, out var value) ? value.ToString() : null;

    private static string Tail(string output) => output.Length > 4000 ? output[^4000..] : output;

    /// <summary>What the collector holds, for a failure message: spans per service, and the run-tagged ones by trace.</summary>
    private string DescribeSpans()
    {
        var all = fixture.Collector.Spans;
        var perService = all.GroupBy(s => $"{s.Service}/{s.Scope}").Select(g => $"{g.Key}: {g.Count()}");
        var tagged = all.Where(s => s.Attribute("sync.run_id") == RunId)
            .GroupBy(s => s.TraceId)
            .Select(g => $"trace {g.Key}: {string.Join(", ", g.Select(s => $"{s.Service}:{s.Name}").Distinct().Take(12))}");
        var ids = all.Select(s => s.SpanId).ToHashSet();
        var orphans = all.Where(s => s.Scope == "Npgsql" && !ids.Contains(s.ParentSpanId)).GroupBy(s => s.Service).Select(g => $"{g.Key}: {g.Count()}");
        return $"Spans: {string.Join("; ", perService)}\nNpgsql spans without a collected parent: {string.Join("; ", orphans)}\nRun {RunId}:\n{string.Join("\n", tagged)}";
    }

    private static async Task<T> WaitForAsync<T>(Func<T?> probe, Func<string>? describe = null)
        where T : class => await WaitForAsync(() => Task.FromResult(probe()), describe);

    private static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, Func<string>? describe = null)
        where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The condition did not hold within 60 s. {describe?.Invoke()}");
            }

            await Task.Delay(250);
        }
    }
}
