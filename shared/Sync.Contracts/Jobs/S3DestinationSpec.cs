namespace Sync.Contracts.Jobs;

/// <summary>
/// An S3 destination (<c>type: s3</c>): one object per batch under <see cref="Prefix"/> in the connection's
/// bucket, as <see cref="Format"/> <c>parquet</c> or <c>jsonl</c>, and a manifest per completed run.
/// </summary>
public sealed record S3DestinationSpec(string Prefix, string Format);
