using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Sync.Coordinator.Api;

/// <summary>
/// Every call that changes something (any method but GET, HEAD, OPTIONS) needs the header
/// <c>X-Api-Key</c> equal to <see cref="CoordinatorOptions.ApiKey"/>. With no key configured such calls
/// are accepted from loopback clients only, which is why the Coordinator binds to 127.0.0.1 by default.
/// </summary>
internal sealed class ApiKeyMiddleware(RequestDelegate next, IOptions<CoordinatorOptions> options, IProblemDetailsService problems)
{
    public const string HeaderName = "X-Api-Key";

    public async Task InvokeAsync(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) || HttpMethods.IsOptions(context.Request.Method))
        {
            await next(context);
            return;
        }

        var key = options.Value.ApiKey;
        string? refusal;
        if (string.IsNullOrEmpty(key))
        {
            var remote = context.Connection.RemoteIpAddress;
            refusal = remote is null || IPAddress.IsLoopback(remote)
                ? null
                : "No API key is configured, so changes are accepted from this machine (loopback) only. Set Coordinator__ApiKey on the Coordinator and send it as the X-Api-Key header (sync --api-key or SYNC_API_KEY).";
        }
        else
        {
            var sent = context.Request.Headers[HeaderName].ToString();
            refusal = Matches(sent, key)
                ? null
                : string.IsNullOrEmpty(sent)
                    ? "Send the API key as the X-Api-Key header (sync --api-key or SYNC_API_KEY); it is the Coordinator's Coordinator__ApiKey setting."
                    : "The X-Api-Key header does not match the Coordinator's Coordinator__ApiKey setting.";
        }

        if (refusal is null)
        {
            await next(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = { Status = StatusCodes.Status401Unauthorized, Title = "This call changes something and needs the API key.", Detail = refusal },
        });
    }

    private static bool Matches(string sent, string key) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(sent)), SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
