using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Sync.Testing;

/// <summary>
/// A real HTTP API on 127.0.0.1 (Kestrel): orders filtered by <c>updated_since</c> (inclusive, as many APIs
/// are), 40 per page with a <c>next_cursor</c> token, a bearer secret, and on a fixed rhythm of requests a
/// 429 with Retry-After: 1 or a 503, so the client's waits and retries are exercised on every run.
/// The http source's tests read it in process, the end-to-end http job through the four services.
/// </summary>
public sealed class OrdersApi : IAsyncDisposable
{
    public const string Secret = "Bearer s3cret-token";
    public const int PageSize = 40;

    private readonly WebApplication _app;
    private int _requests;

    private OrdersApi(WebApplication app) => _app = app;

    /// <summary>The records served, in the order the API returns them; tests add to it between runs.</summary>
    public ConcurrentQueue<JsonNode> Orders { get; } = new();

    /// <summary>The <c>updated_since</c> of each authorized request, in arrival order (null when absent).</summary>
    public ConcurrentQueue<string?> Since { get; } = new();

    public Uri BaseUrl { get; private set; } = null!;

    public int Throttled { get; private set; }

    public int Unavailable { get; private set; }

    public static async Task<OrdersApi> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var api = new OrdersApi(app);
        app.MapGet("/api/v1/orders", api.Page);
        // Moved on the same origin, and moved to wherever RedirectTo says (another origin, for the secret's sake).
        app.MapGet("/api/v1/old-orders", (HttpContext context) => Results.Redirect($"/api/v1/orders{context.Request.QueryString}", permanent: true));
        app.MapGet("/api/v1/moved", (HttpContext context) => Results.Redirect($"{api.RedirectTo}{context.Request.QueryString}"));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        api.BaseUrl = new Uri(address + "/api");
        return api;
    }

    /// <summary>Where /api/v1/moved redirects.</summary>
    public Uri? RedirectTo { get; set; }

    /// <summary>The Authorization header of every request of a page, as it came (null: none).</summary>
    public ConcurrentQueue<string?> Authorizations { get; } = new();

    private IResult Page(HttpContext context)
    {
        Authorizations.Enqueue(context.Request.Headers.Authorization is [{ } sent] ? sent : null);
        var n = Interlocked.Increment(ref _requests);
        if (context.Request.Headers.Authorization != Secret)
        {
            return Results.StatusCode(401);
        }

        Since.Enqueue(context.Request.Query["updated_since"] is [{ } asked] ? asked : null);

        if (n % 5 == 2)
        {
            Throttled++;
            context.Response.Headers.RetryAfter = "1";
            return Results.StatusCode(429);
        }

        if (n % 5 == 4)
        {
            Unavailable++;
            return Results.StatusCode(503);
        }

        IEnumerable<JsonNode> orders = Orders;
        if (context.Request.Query["updated_since"] is [{ } since])
        {
            var from = DateTimeOffset.Parse(since, CultureInfo.InvariantCulture);
            orders = orders.Where(o => o is not JsonObject record || record["updated_at"] is not { } at
                || DateTimeOffset.Parse(at.GetValue<string>(), CultureInfo.InvariantCulture) >= from);
        }

        var offset = context.Request.Query["cursor"] is [{ } c] ? int.Parse(c, CultureInfo.InvariantCulture) : 0;
        var all = orders.ToList();
        var page = all.Skip(offset).Take(PageSize).Select(o => o.DeepClone()).ToArray();
        var next = offset + PageSize < all.Count ? (offset + PageSize).ToString(CultureInfo.InvariantCulture) : null;
        var body = new JsonObject { ["data"] = new JsonObject { ["items"] = new JsonArray(page) }, ["meta"] = new JsonObject { ["next_cursor"] = next } };
        return Results.Text(body.ToJsonString(), "application/json");
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
