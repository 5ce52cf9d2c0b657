using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Sync.Connectors.Resilience;
using Sync.Contracts;
using Sync.Contracts.Jobs;

namespace Sync.Connectors.Http;

/// <summary>
/// Reads a paged HTTP JSON API (<c>type: http</c>) into the same batches a table source produces.
/// Each page is one unit of work on the connection's resilience pipeline (a transient 5xx or timeout
/// fetches that page again); a 429 waits for its Retry-After first. Records at or before the
/// watermark are dropped even if the API returns them (its since filter may be inclusive), and a
/// record that does not fit its declared types is set aside as a dead letter, stage "extract".
/// </summary>
public sealed class HttpSource(HttpConnections connections, IHttpClientFactory clients, ConnectorResilience resilience) : ISource
{
    public const string ClientName = "sync-http";
    public const string Stage = "extract";

    /// <summary>How many 429 answers one page may get before it counts as a transient failure.</summary>
    internal const int MaxThrottledAnswers = 10;

    /// <summary>Redirects followed for one page (on the connection's own origin only).</summary>
    internal const int MaxRedirects = 5;

    private static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    public async Task<ExtractionSummary> ExtractAsync(
        JobSpec job,
        CursorPosition? after,
        Func<RecordBatch, IReadOnlyList<RejectedRecord>, CancellationToken, ValueTask> onBatch,
        CancellationToken cancellationToken)
    {
        var spec = job.Source.Http ?? throw new SourceSchemaException("An http source needs its source.path, records and fields; the job carries none.");
        var connection = connections.Get(job.Source.Connection);
        var records = new JsonRecords(job.Source, spec.Fields);
        var client = clients.CreateClient(ClientName);

        var afterValues = after is null ? null : records.Encode(after);
        var strictlyAfter = afterValues is not null && job.Source.Lookback == TimeSpan.Zero;
        var first = connection.Resolve(spec.Path);
        if (spec.SinceParam is { } sinceParam && afterValues is not null)
        {
            first = WithQuery(first, sinceParam, records.SinceValue(afterValues[0], job.Source.Lookback));
        }

        var summary = new ExtractionSummary();
        var batch = new PendingBatch(records.Columns, job, summary, onBatch);
        var values = new byte[]?[records.Columns.Count];
        byte[]?[]? high = null;
        var page = spec.Pagination?.Kind == "page" ? spec.Pagination.Start : 0;
        Uri? next = spec.Pagination?.Kind == "page" ? WithQuery(first, spec.Pagination.Param!, page.ToString(System.Globalization.CultureInfo.InvariantCulture)) : first;
        while (next is not null)
        {
            var uri = next;
            using var document = await resilience.ExecuteAsync(connection.Name, ct => FetchAsync(client, connection, uri, ct), cancellationToken);
            if (!JsonRecords.TryFind(document.RootElement, spec.Records, out var array) || array.ValueKind != JsonValueKind.Array)
            {
                throw new SourceSchemaException($"The answer of {uri.AbsolutePath} has no array at source.records \"{spec.Records}\"; set records: to the path of the records array.");
            }

            foreach (var record in array.EnumerateArray())
            {
                if (!records.TryEncode(record, values, out var error))
                {
                    batch.Reject(Stage, $"{uri.PathAndQuery}: {error}", record.GetRawText());
                }
                else if (!strictlyAfter || records.Compare(values, afterValues!) > 0)
                {
                    batch.Add(values);
                    if (high is null || records.Compare(values, high) > 0)
                    {
                        high = [.. values];
                    }
                }

                if (batch.EndRecord())
                {
                    await batch.SendAsync(High(), cancellationToken);
                }
            }

            next = NextPage(spec.Pagination, document.RootElement, uri, array.GetArrayLength(), ref page);
        }

        if (!batch.IsEmpty)
        {
            await batch.SendAsync(High(), cancellationToken);
        }

        return summary;

        CursorPosition? High() => high is null ? null : records.PositionOf(high);
    }

    private static Uri? NextPage(HttpPagination? pagination, JsonElement root, Uri current, int count, ref int page)
    {
        switch (pagination?.Kind)
        {
            case "page":
                page++;
                return count == 0 ? null : WithQuery(current, pagination.Param!, page.ToString(System.Globalization.CultureInfo.InvariantCulture));
            case "cursor" when JsonRecords.TryFind(root, pagination.Next!, out var token) && Scalar(token) is { Length: > 0 } value:
                return WithQuery(current, pagination.Param!, value);
            case "link" when JsonRecords.TryFind(root, pagination.Next!, out var link) && Scalar(link) is { Length: > 0 } target:
                var uri = new Uri(current, target);
                // The auth header goes with every request: a link to another origin would hand it the secret.
                if (Uri.Compare(uri, current, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) != 0)
                {
                    throw new SourceSchemaException($"The next-page link points to another origin ({uri.GetLeftPart(UriPartial.Authority)}); Sync only follows links on the connection's own address.");
                }

                return uri;
            default:
                return null;
        }
    }

    private static string? Scalar(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.GetRawText(),
        _ => null,
    };

    private static Uri WithQuery(Uri uri, string name, string value)
    {
        var builder = new UriBuilder(uri);
        var kept = builder.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Where(p => !string.Equals(Uri.UnescapeDataString(p.Split('=')[0]), name, StringComparison.Ordinal));
        builder.Query = string.Join('&', kept.Append($"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(value)}"));
        return builder.Uri;
    }

    private static async ValueTask<JsonDocument> FetchAsync(HttpClient client, HttpConnection connection, Uri uri, CancellationToken cancellationToken)
    {
        var redirects = 0;
        for (var throttled = 0; ; throttled++)
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(connection.RequestTimeout);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, uri);
                request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
                if (connection.AuthSecret is { Length: > 0 } secret)
                {
                    request.Headers.TryAddWithoutValidation(connection.AuthHeader, secret);
                }

                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var status = (int)response.StatusCode;
                if (status is >= 300 and < 400 && response.Headers.Location is { } location)
                {
                    uri = Redirected(connection, uri, location, ++redirects);
                    throttled--;
                    continue;
                }

                if (response.StatusCode == HttpStatusCode.TooManyRequests && throttled < MaxThrottledAnswers)
                {
                    await Task.Delay(RetryAfter(response), cancellationToken);
                    continue;
                }

                if (status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests)
                {
                    throw new TransientHttpException($"GET {uri.AbsolutePath} answered {status} {response.ReasonPhrase}");
                }

                if (!response.IsSuccessStatusCode)
                {
                    // Not retried: a wrong path or a refused secret stays wrong. The secret is not in the message.
                    throw new SourceSchemaException($"GET {uri.AbsolutePath} of HTTP connection \"{connection.Name}\" answered {status} {response.ReasonPhrase}; check source.path and the connection's AuthSecret.");
                }

                await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
                try
                {
                    return await JsonDocument.ParseAsync(stream, cancellationToken: timeout.Token);
                }
                catch (JsonException exception)
                {
                    throw new SourceSchemaException($"GET {uri.AbsolutePath} did not answer JSON: {exception.Message}");
                }
            }
            catch (OperationCanceledException exception) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TransientHttpException($"GET {uri.AbsolutePath} took longer than {connection.RequestTimeout.TotalSeconds} s", exception);
            }
        }
    }

    /// <summary>
    /// Where a redirect leads, followed by hand (the client follows none): only on the connection's own
    /// origin, where its secret may go, and at most <see cref="MaxRedirects"/> times. A redirect to any
    /// other origin fails the extraction before anything is sent there (issue 20).
    /// </summary>
    private static Uri Redirected(HttpConnection connection, Uri from, Uri location, int redirects)
    {
        var target = location.IsAbsoluteUri ? location : new Uri(from, location);
        var own = connection.BaseUrl.GetLeftPart(UriPartial.Authority);
        if (!string.Equals(target.GetLeftPart(UriPartial.Authority), own, StringComparison.OrdinalIgnoreCase))
        {
            throw new SourceSchemaException(
                $"GET {from.AbsolutePath} of HTTP connection \"{connection.Name}\" was redirected to another origin ({target.GetLeftPart(UriPartial.Authority)}); " +
                $"its secret is sent only to {own}, so the redirect is not followed: set HttpConnections__{connection.Name}__BaseUrl to the API's own address.");
        }

        return redirects <= MaxRedirects
            ? target
            : throw new SourceSchemaException($"GET {from.AbsolutePath} of HTTP connection \"{connection.Name}\" was redirected more than {MaxRedirects} times.");
    }

    private static TimeSpan RetryAfter(HttpResponseMessage response)
    {
        var wait = response.Headers.RetryAfter switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - DateTimeOffset.UtcNow,
            _ => TimeSpan.FromSeconds(1),
        };
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > MaxRetryAfter ? MaxRetryAfter : wait;
    }
}
