using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Sync.Contracts.Jobs;

namespace Sync.Coordinator.Runs;

/// <summary>
/// What a committed watermark is a position in: the source it was read from (connection, table or
/// query, files), the order it was read in (cursor and key, or a cdc stream) and the destination it
/// was loaded into. It is kept in the watermark's metadata. A job file edited since — another cursor
/// column, table, query or destination — would read on from a position in another order or into a
/// destination that never had the earlier rows, and skip rows without a word; such a run is refused,
/// naming what changed and how to copy again. Settings that do not move the position (batch size,
/// schedule, transforms, conflict strategy, look-back) may change freely.
/// </summary>
internal sealed record WatermarkOrigin(
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("order")] string Order,
    [property: JsonPropertyName("destination")] string Destination)
{
    public const string MetadataProperty = "origin";

    public static WatermarkOrigin Of(JobSpec job)
    {
        var source = job.Source;
        var what = source.Query is { } query ? $"query sha256:{Hash(query)}" : source.Table;
        if (source.Files is { } files)
        {
            what = $"{files.Prefix}{files.Pattern} ({files.Format})";
        }

        var order = job.Mode == SyncMode.Cdc
            ? "cdc stream"
            : $"cursor {source.Cursor}, key {string.Join(", ", source.PrimaryKey)}";
        var destination = job.Destination.S3 is { } s3 ? $"{s3.Prefix} ({s3.Format})" : job.Destination.Table;
        return new WatermarkOrigin(
            $"{source.Kind.ToString().ToLowerInvariant()} {source.Connection}: {what}",
            order,
            $"{job.Destination.Kind.ToString().ToLowerInvariant()} {job.Destination.Connection}: {destination}");
    }

    /// <summary>The origin kept in a watermark's metadata; null for a watermark committed before origins were kept.</summary>
    public static WatermarkOrigin? Read(string metadata)
    {
        using var document = JsonDocument.Parse(metadata);
        return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(MetadataProperty, out var origin)
            ? origin.Deserialize<WatermarkOrigin>()
            : null;
    }

    /// <summary>What differs from <paramref name="now"/>, one clause per part ("cursor … was X, is now Y"); empty when nothing does.</summary>
    public IReadOnlyList<string> Differences(WatermarkOrigin now)
    {
        var differences = new List<string>();
        Compare("the source", Source, now.Source);
        Compare("the order it was read in", Order, now.Order);
        Compare("the destination", Destination, now.Destination);
        return differences;

        void Compare(string part, string was, string @is)
        {
            if (!string.Equals(was, @is, StringComparison.Ordinal))
            {
                differences.Add($"{part} was {was}, is now {@is}");
            }
        }
    }

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
}
