using System.Text.Json;

namespace Sync.Cli;

/// <summary>An error answer of the Coordinator (problem+json: title and detail) as one line a person can act on.</summary>
internal static class ProblemText
{
    public static string Of(string body)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("title", out var title))
            {
                return root.TryGetProperty("detail", out var detail) && detail.ValueKind == JsonValueKind.String
                    ? $"{title.GetString()} {detail.GetString()}"
                    : title.GetString() ?? body;
            }
        }
        catch (JsonException)
        {
        }

        return body.Length == 0 ? "(no body)" : body;
    }
}

/// <summary>The Coordinator refused a call; the message is its problem text.</summary>
internal sealed class CoordinatorException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
