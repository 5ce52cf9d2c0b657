using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Sync.ServiceDefaults;

/// <summary>
/// The health endpoints of a service without an HTTP API (Extractor, Transformer, Loader), for
/// Kubernetes' probes (issue 19): <c>/health/live</c> answers 200 while the process runs;
/// <c>/health/ready</c> answers 200 when every check tagged "ready" (MassTransit's bus check is) is
/// healthy, else 503, with each check as JSON — the Coordinator's endpoints of the same names.
/// Served only when <c>Health:Urls</c> is set (e.g. <c>http://0.0.0.0:8081</c>): on one machine
/// several Loaders run side by side, and none should take a port it was not given.
/// </summary>
internal sealed class HealthEndpointsServer(IConfiguration configuration, HealthCheckService checks) : IHostedService, IAsyncDisposable
{
    public const string UrlsSetting = "Health:Urls";
    public const string ReadyTag = "ready";

    private WebApplication? _app;

    /// <summary>The addresses it listens on, once started (a port 0 in the setting becomes the real one).</summary>
    public IReadOnlyCollection<string> Addresses =>
        _app?.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToArray() ?? [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var urls = configuration[UrlsSetting];
        if (string.IsNullOrWhiteSpace(urls))
        {
            return;
        }

        // A server of its own, so the service's host stays a plain worker; it reads no configuration
        // (no ASPNETCORE_URLS, no Kestrel section) and logs nothing: a port it cannot bind stops the
        // service through this method's exception.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().UseUrls(urls);
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton<ILoggerFactory>(Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance);
        var app = builder.Build();
        app.UseRouting();
        app.MapGet("/health/live", context => context.Response.WriteAsync("Healthy", context.RequestAborted));
        app.MapGet("/health/ready", ReadyAsync);
        await app.StartAsync(cancellationToken);
        _app = app;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _app?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public ValueTask DisposeAsync() => _app?.DisposeAsync() ?? ValueTask.CompletedTask;

    private async Task ReadyAsync(HttpContext context)
    {
        var report = await checks.CheckHealthAsync(check => check.Tags.Contains(ReadyTag), context.RequestAborted);
        context.Response.StatusCode = report.Status == HealthStatus.Healthy ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
        context.Response.ContentType = "application/json";
        var body = new
        {
            status = report.Status.ToString(),
            checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description ?? e.Value.Exception?.Message }),
        };
        await context.Response.WriteAsync(JsonSerializer.Serialize(body), context.RequestAborted);
    }
}
