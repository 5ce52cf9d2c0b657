using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace Sync.ServiceDefaults.Tests;

/// <summary>
/// The Extractor's, Transformer's and Loader's health endpoints (issue 19, Kubernetes probes), over
/// real HTTP: live while the process runs, ready only while every "ready" check is healthy.
/// </summary>
public sealed class HealthEndpointsTests
{
    [Fact]
    public async Task Ready_answers_503_with_the_failing_check_while_a_ready_check_fails_and_live_answers_200_throughout()
    {
        var bus = new SwitchableCheck();
        using var host = BuildHost("http://127.0.0.1:0", bus);
        await host.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(host.Services.GetRequiredService<HealthEndpointsServer>().Addresses.Single()) };

        using (var ready = await http.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        bus.Healthy = false;
        using (var ready = await http.GetAsync("/health/ready"))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            var body = JsonNode.Parse(await ready.Content.ReadAsStringAsync())!;
            Assert.Equal("Unhealthy", body["status"]!.GetValue<string>());
            var check = Assert.Single(body["checks"]!.AsArray())!;
            Assert.Equal(("bus", "Unhealthy"), (check["name"]!.GetValue<string>(), check["status"]!.GetValue<string>()));
        }

        using (var live = await http.GetAsync("/health/live"))
        {
            Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        }

        await host.StopAsync();
    }

    [Fact]
    public async Task Without_Health_Urls_nothing_listens()
    {
        using var host = BuildHost(null, new SwitchableCheck());
        await host.StartAsync();

        Assert.Empty(host.Services.GetRequiredService<HealthEndpointsServer>().Addresses);
        await host.StopAsync();
    }

    private static IHost BuildHost(string? urls, SwitchableCheck bus)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection([new(HealthEndpointsServer.UrlsSetting, urls)]);
        builder.AddSyncHealthEndpoints();
        builder.Services.AddHealthChecks()
            .AddCheck("bus", bus, tags: [HealthEndpointsServer.ReadyTag])
            .AddCheck("not-for-readiness", () => HealthCheckResult.Unhealthy());
        return builder.Build();
    }

    private sealed class SwitchableCheck : IHealthCheck
    {
        public bool Healthy { get; set; } = true;

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(Healthy ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("down"));
    }
}
