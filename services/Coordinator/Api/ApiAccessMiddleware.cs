using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Sync.Coordinator.Api;

/// <summary>
/// Who may call the API and the dashboard (issue 20). In order:
/// <list type="number">
/// <item>The API and the dashboard answer only host names in <see cref="CoordinatorOptions.AllowedHosts"/>
/// (default loopback names), so a DNS-rebound name cannot reach them from a browser.</item>
/// <item>A call that changes something (any method but GET, HEAD, OPTIONS) is refused when it comes from
/// another site: a browser's <c>Sec-Fetch-Site</c> other than same-origin or none, or an <c>Origin</c>
/// other than this server's (or <see cref="CoordinatorOptions.AllowedOrigins"/>); and it must carry a
/// header a cross-site form cannot send without a preflight, which is never granted — <c>X-Sync-Client</c>,
/// <c>X-Api-Key</c>, or a JSON content type. A web page open on this machine can therefore not pause
/// jobs, start runs or replay dead letters through a loopback Coordinator.</item>
/// <item>With a key configured, changes need <c>X-Api-Key</c> equal to <see cref="CoordinatorOptions.ApiKey"/>,
/// and reads of /api need it or <see cref="CoordinatorOptions.ReadApiKey"/> (dead letters hold customer
/// records). With none, changes and reads are accepted from loopback clients only, which is why the Coordinator
/// binds to 127.0.0.1 by default. Health, metrics and the dashboard's own files stay open.</item>
/// </list>
/// </summary>
internal sealed class ApiAccessMiddleware(RequestDelegate next, IOptions<CoordinatorOptions> options, IProblemDetailsService problems)
{
    public const string KeyHeader = "X-Api-Key";

    public const string ClientHeader = "X-Sync-Client";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        var api = request.Path.StartsWithSegments("/api", StringComparison.Ordinal);
        if (!api && !request.Path.StartsWithSegments(Dashboard.Path, StringComparison.Ordinal))
        {
            await next(context);
            return;
        }

        var settings = options.Value;
        var changes = !(HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method));
        var refusal = HostRefusal(request, settings)
            ?? (changes ? CrossSiteRefusal(request, settings) : null)
            ?? (changes ? ChangeKeyRefusal(context, settings) : api ? ReadKeyRefusal(context, settings) : null);
        if (refusal is null)
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = refusal.Status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = refusal.Status, Title = refusal.Title, Detail = refusal.Detail },
        });
    }

    private static Refusal? HostRefusal(HttpRequest request, CoordinatorOptions settings)
    {
        var allowed = settings.AllowedHosts.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return allowed.Contains("*", StringComparer.Ordinal) || HostString.MatchesAny(request.Host.Host, [.. allowed.Select(a => new Microsoft.Extensions.Primitives.StringSegment(a))])
            ? null
            : new Refusal(
                StatusCodes.Status403Forbidden,
                "This host name is not served.",
                $"The API and the dashboard answer only {string.Join(", ", allowed)} (a browser reaching this server under another name may be a DNS rebinding); add the name to Coordinator__AllowedHosts.");
    }

    private static Refusal? CrossSiteRefusal(HttpRequest request, CoordinatorOptions settings)
    {
        const string title = "A change from another site is refused.";
        var fetchSite = request.Headers["Sec-Fetch-Site"].ToString();
        if (fetchSite.Length > 0 && fetchSite is not ("same-origin" or "none"))
        {
            return new Refusal(StatusCodes.Status403Forbidden, title, $"The browser says this request comes from a {fetchSite} page; changes are accepted from the dashboard, the CLI and API clients only.");
        }

        var origin = request.Headers.Origin.ToString();
        var own = $"{request.Scheme}://{request.Host}";
        var origins = settings.AllowedOrigins.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (origin.Length > 0 && !string.Equals(origin, own, StringComparison.OrdinalIgnoreCase) && !origins.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            return new Refusal(StatusCodes.Status403Forbidden, title, $"The request comes from a page of {origin}, not of this server ({own}); add it to Coordinator__AllowedOrigins if it is yours.");
        }

        var json = request.ContentType is { } type && type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase);
        return json || request.Headers.ContainsKey(ClientHeader) || request.Headers.ContainsKey(KeyHeader)
            ? null
            : new Refusal(StatusCodes.Status403Forbidden, title, $"A change must carry the {ClientHeader} header (any value), the {KeyHeader} header or a JSON body, which a form on another site cannot send; the CLI and the dashboard do.");
    }

    private static Refusal? ChangeKeyRefusal(HttpContext context, CoordinatorOptions settings)
    {
        const string title = "This call changes something and needs the API key.";
        if (string.IsNullOrEmpty(settings.ApiKey))
        {
            var remote = context.Connection.RemoteIpAddress;
            return remote is null || IPAddress.IsLoopback(remote)
                ? null
                : new Refusal(StatusCodes.Status401Unauthorized, title, "No API key is configured, so changes are accepted from this machine (loopback) only. Set Coordinator__ApiKey on the Coordinator and send it as the X-Api-Key header (syncctl --api-key or SYNC_API_KEY).");
        }

        var sent = context.Request.Headers[KeyHeader].ToString();
        return Matches(sent, settings.ApiKey)
            ? null
            : new Refusal(
                StatusCodes.Status401Unauthorized,
                title,
                string.IsNullOrEmpty(sent)
                    ? "Send the API key as the X-Api-Key header (syncctl --api-key or SYNC_API_KEY); it is the Coordinator's Coordinator__ApiKey setting."
                    : "The X-Api-Key header does not match the Coordinator's Coordinator__ApiKey setting (a read-only key, Coordinator__ReadApiKey, does not change anything).");
    }

    private static Refusal? ReadKeyRefusal(HttpContext context, CoordinatorOptions settings)
    {
        if (string.IsNullOrEmpty(settings.ApiKey) && string.IsNullOrEmpty(settings.ReadApiKey))
        {
            // No key at all: reads (dead letters are whole customer records) stay on this machine, as changes do.
            var remote = context.Connection.RemoteIpAddress;
            return remote is null || IPAddress.IsLoopback(remote)
                ? null
                : new Refusal(StatusCodes.Status401Unauthorized, "Reading the API needs a key.", "No API key is configured, so the API is read from this machine (loopback) only. Set Coordinator__ApiKey (or the read-only Coordinator__ReadApiKey) on the Coordinator and send it as the X-Api-Key header (syncctl --api-key or SYNC_API_KEY).");
        }

        var sent = context.Request.Headers[KeyHeader].ToString();
        return (!string.IsNullOrEmpty(settings.ApiKey) && Matches(sent, settings.ApiKey))
            || (!string.IsNullOrEmpty(settings.ReadApiKey) && Matches(sent, settings.ReadApiKey))
            ? null
            : new Refusal(
                StatusCodes.Status401Unauthorized,
                "Reading the API needs a key.",
                "A key is configured, so reads need it too: send Coordinator__ApiKey or the read-only Coordinator__ReadApiKey as the X-Api-Key header (syncctl --api-key or SYNC_API_KEY; in the dashboard, enter it in the key field).");
    }

    private static bool Matches(string sent, string key) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(sent)), SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    private sealed record Refusal(int Status, string Title, string Detail);
}
