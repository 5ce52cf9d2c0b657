using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Sync.Coordinator.Api;

namespace Sync.Coordinator.Tests;

/// <summary>
/// Issue 20, items 2 and 5: with no API key configured, the API is neither changed nor read from
/// another machine (dead letters are whole customer records), so a Coordinator bound to a public
/// address without a key gives nothing away; on loopback it works as before.
/// </summary>
public sealed class ApiAccessTests
{
    private static readonly IPAddress Remote = IPAddress.Parse("192.0.2.2");

    [Theory]
    [InlineData("GET", "/api/dead-letters")]
    [InlineData("GET", "/api/runs")]
    [InlineData("POST", "/api/jobs/orders/runs")]
    public async Task Without_a_key_a_call_from_another_machine_is_refused(string method, string path)
    {
        var (status, reached) = await CallAsync(method, path, Remote, new CoordinatorOptions());

        Assert.Equal(StatusCodes.Status401Unauthorized, status);
        Assert.False(reached);
    }

    [Theory]
    [InlineData("GET", "/api/dead-letters")]
    [InlineData("POST", "/api/jobs/orders/runs")]
    public async Task Without_a_key_a_call_from_this_machine_is_served(string method, string path)
    {
        var (status, reached) = await CallAsync(method, path, IPAddress.Loopback, new CoordinatorOptions());

        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.True(reached);
    }

    [Fact]
    public async Task With_the_read_key_another_machine_reads()
    {
        var options = new CoordinatorOptions { ApiKey = "change-key-0123456789", ReadApiKey = "read-key-0123456789" };

        var (status, reached) = await CallAsync("GET", "/api/dead-letters", Remote, options, key: "read-key-0123456789");

        Assert.Equal(StatusCodes.Status200OK, status);
        Assert.True(reached);
    }

    private static async Task<(int Status, bool Reached)> CallAsync(string method, string path, IPAddress remote, CoordinatorOptions options, string? key = null)
    {
        var services = new ServiceCollection().AddLogging().AddProblemDetails().BuildServiceProvider();
        var context = new DefaultHttpContext { RequestServices = services };
        context.Request.Method = method;
        context.Request.Path = path;
        context.Request.Host = new HostString("localhost", 5080);
        context.Request.Headers[ApiAccessMiddleware.ClientHeader] = "tests";
        if (key is not null)
        {
            context.Request.Headers[ApiAccessMiddleware.KeyHeader] = key;
        }

        context.Connection.RemoteIpAddress = remote;
        context.Response.Body = new MemoryStream();
        var reached = false;
        var middleware = new ApiAccessMiddleware(
            _ =>
            {
                reached = true;
                return Task.CompletedTask;
            },
            Options.Create(options),
            services.GetRequiredService<IProblemDetailsService>());

        await middleware.InvokeAsync(context);
        return (context.Response.StatusCode, reached);
    }
}
