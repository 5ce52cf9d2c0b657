using System.Net;
using System.Text.Json;

namespace Sync.Cli;

/// <summary>A thin client of the Coordinator's HTTP API; an error answer becomes an exception with its problem text.</summary>
internal sealed class CoordinatorClient : IDisposable
{
    private readonly HttpClient _http;

    public CoordinatorClient(string baseAddress, string? apiKey = null)
    {
        _http = new HttpClient { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(30) };
        // The Coordinator accepts changes only with a header a cross-site form cannot send (issue 20).
        _http.DefaultRequestHeaders.Add("X-Sync-Client", "sync-cli");
        if (!string.IsNullOrEmpty(apiKey))
        {
            _http.DefaultRequestHeaders.Add("X-Api-Key", apiKey);
        }
    }

    /// <summary>How long a call may take (default 30 s); set before the first call.</summary>
    public TimeSpan Timeout
    {
        get => _http.Timeout;
        set => _http.Timeout = value;
    }

    public async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken, bool allowNotFound = false)
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        if (allowNotFound && response.StatusCode == HttpStatusCode.NotFound)
        {
            return default;
        }

        return await ReadAsync(response, cancellationToken);
    }

    /// <summary>A text answer as it is, e.g. the job file of GET /api/discover.</summary>
    public async Task<string> GetTextAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        return response.IsSuccessStatusCode ? body : throw new CoordinatorException((int)response.StatusCode, ProblemText.Of(body));
    }

    public async Task<JsonElement> PostAsync(string path, CancellationToken cancellationToken, string? jsonBody = null)
    {
        using var content = jsonBody is null ? null : new StringContent(jsonBody, System.Text.Encoding.UTF8, "application/json");
        using var response = await _http.PostAsync(path, content, cancellationToken);
        return await ReadAsync(response, cancellationToken);
    }

    public async Task<JsonElement> PutAsync(string path, string jsonBody, CancellationToken cancellationToken)
    {
        using var content = new StringContent(jsonBody, System.Text.Encoding.UTF8, "application/json");
        using var response = await _http.PutAsync(path, content, cancellationToken);
        return await ReadAsync(response, cancellationToken);
    }

    public async Task<JsonElement> DeleteAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.DeleteAsync(path, cancellationToken);
        return await ReadAsync(response, cancellationToken);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new CoordinatorException((int)response.StatusCode, ProblemText.Of(body));
        }

        return body.Length == 0 ? default : JsonDocument.Parse(body).RootElement.Clone();
    }

    public void Dispose() => _http.Dispose();
}
