using System.Text.Json;
using System.Text.Json.Serialization;

namespace Sync.Connectors.S3;

/// <summary>
/// The manifest of a completed run of an S3 destination (<c>manifest.json</c> next to its objects):
/// which objects hold the run's rows. <see cref="Checksum"/> is the SHA-256 (hex) of the objects'
/// SHA-256 hex strings joined by newlines, in batch order.
/// </summary>
public sealed record RunManifest(
    string Job,
    Guid RunId,
    Guid ExtractionId,
    string Format,
    int BatchCount,
    long Rows,
    IReadOnlyList<RunManifestObject> Objects,
    string Checksum)
{
    internal static readonly JsonSerializerOptions JsonOptions = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };
}

/// <summary>One batch object of a run: its key, batch sequence, rows, size in bytes and SHA-256 (hex).</summary>
public sealed record RunManifestObject(string Key, int BatchSeq, long Rows, long Bytes, string Sha256);
