using System.Net;
using System.Text.Json;

namespace Sync.Cli;

/// <summary>A thin client of the Coordinator's HTTP API; an error answer becomes an exception with its problem text.</summary>
internal sealed class CoordinatorClient(string baseAddress) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(30) };

    public async Task<JsonElement> GetAsync(string path, CancellationToken cancellationToken, bool allowNotFound = false)
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        if (allowNotFound && response.StatusCode == HttpStatusCode.NotFound)
        {
            return default;
        }

        return await ReadAsync(response, cancellationToken);
    }

    public async Task<JsonElement> PostAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsync(path, content: null, cancellationToken);
        return await ReadAsync(response, cancellationToken);
    }

    private static async Task<JsonElement> ReadAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"The Coordinator answered {(int)response.StatusCode}: {body}");
        }

        return JsonDocument.Parse(body).RootElement.Clone();
    }

    public void Dispose() => _http.Dispose();
}
