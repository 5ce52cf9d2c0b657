using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace Sync.Connectors.Http;

/// <summary>
/// Resolves the connection names of http sources from the configuration section <c>HttpConnections</c>
/// (environment: <c>HttpConnections__NAME__BaseUrl</c>, <c>__AuthHeader</c>, <c>__AuthSecret</c>,
/// <c>__RequestTimeout</c>). The auth secret lives only there: never in a job file, never in a log line.
/// </summary>
public sealed class HttpConnections(IConfiguration configuration)
{
    public const string SectionName = "HttpConnections";

    /// <exception cref="SourceSchemaException">The name has no usable BaseUrl.</exception>
    public HttpConnection Get(string name)
    {
        var section = configuration.GetSection(SectionName).GetSection(name);
        if (!Uri.TryCreate(section["BaseUrl"], UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            throw new SourceSchemaException(
                $"HTTP connection \"{name}\" is not configured. Set the environment variable {SectionName}__{name}__BaseUrl to the API's base address (http:// or https://), " +
                $"and {SectionName}__{name}__AuthSecret to the auth header's value if it needs one.");
        }

        var timeout = TimeSpan.TryParse(section["RequestTimeout"], CultureInfo.InvariantCulture, out var t) && t > TimeSpan.Zero ? t : TimeSpan.FromSeconds(30);
        var header = section["AuthHeader"] is { Length: > 0 } h ? h : "Authorization";
        return new HttpConnection(name, baseUrl, header, section["AuthSecret"], timeout);
    }
}

/// <summary>One API: base address, the auth header's name and secret value, the timeout of one request (default 30 s).</summary>
public sealed record HttpConnection(string Name, Uri BaseUrl, string AuthHeader, string? AuthSecret, TimeSpan RequestTimeout)
{
    /// <summary>The request URI of <paramref name="path"/> (which may carry a query) under the base address.</summary>
    public Uri Resolve(string path) => new(BaseUrl.AbsoluteUri.TrimEnd('/') + path);

    // A record prints every member; the secret must not reach a log through ToString.
    private bool PrintMembers(System.Text.StringBuilder builder)
    {
        builder.Append(CultureInfo.InvariantCulture, $"Name = {Name}, BaseUrl = {BaseUrl}, AuthHeader = {AuthHeader}, RequestTimeout = {RequestTimeout}");
        return true;
    }
}
