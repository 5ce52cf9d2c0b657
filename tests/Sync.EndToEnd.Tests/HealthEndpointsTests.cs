using System.Net;
using System.Text.Json.Nodes;
using Sync.EndToEnd.Tests.Infrastructure;

namespace Sync.EndToEnd.Tests;

/// <summary>
/// The Extractor, the Transformer and the Loader serve /health/live and /health/ready on
/// <c>Health__Urls</c> (issue 19: deploy/kubernetes probes them), ready once their bus is connected.
/// </summary>
public sealed class HealthEndpointsTests
{
    private static readonly string[] Stages = ["Extractor", "Transformer", "Loader"];

    [Fact]
    public async Task Each_stage_answers_live_and_ready_with_its_bus_check_healthy()
    {
        await using var deployment = await SyncDeployment.CreateAsync("health");
        var ports = Stages.ToDictionary(stage => stage, _ => SyncDeployment.FreePort());
        foreach (var (stage, port) in ports)
        {
            deployment.SetServiceEnvironment(stage, "Health__Urls", $"http://127.0.0.1:{port}");
        }

        await deployment.StartAsync();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        foreach (var (stage, port) in ports)
        {
            var ready = await WaitForReadyAsync(http, deployment, stage, port);
            Assert.Equal("Healthy", ready["status"]!.GetValue<string>());
            var bus = Assert.Single(ready["checks"]!.AsArray(), check => check!["name"]!.GetValue<string>().StartsWith("masstransit", StringComparison.Ordinal))!;
            Assert.Equal("Healthy", bus["status"]!.GetValue<string>());
            using var live = await http.GetAsync($"http://127.0.0.1:{port}/health/live");
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }
    }

    /// <summary>The body of the first 200 from /health/ready; a stage starting on a loaded machine may answer 503 (or not yet) first.</summary>
    private static async Task<JsonNode> WaitForReadyAsync(HttpClient http, SyncDeployment deployment, string stage, int port)
    {
        var deadline = DateTime.UtcNow.AddSeconds(120);
        var last = "no answer";
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var response = await http.GetAsync($"http://127.0.0.1:{port}/health/ready");
                last = $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}";
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return JsonNode.Parse(last[4..])!;
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                last = e.Message;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"The {stage} never answered 200 on /health/ready (last: {last}):\n{deployment.Logs()}");
    }
}
