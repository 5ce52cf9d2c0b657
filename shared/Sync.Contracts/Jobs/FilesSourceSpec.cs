namespace Sync.Contracts.Jobs;

/// <summary>
/// CSV or JSONL files in the connection's folder (<c>type: files</c>) matching <see cref="Pattern"/>, read
/// whole, oldest first. <see cref="Format"/> is <c>csv</c> (header row; a field's path is its header) or
/// <c>jsonl</c> (one JSON object per line; a field's path is dotted). With <see cref="Prefix"/>, the files are
/// the objects under that key prefix of the connection's S3 bucket, and <see cref="Pattern"/> matches the key after it.
/// </summary>
public sealed record FilesSourceSpec(string Pattern, string Format, IReadOnlyList<SourceField> Fields, string? Prefix = null);
