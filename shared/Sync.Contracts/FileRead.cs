namespace Sync.Contracts;

/// <summary>One file as a files source lists it: its name (relative to the folder, or the S3 key), modified time (UTC) and size in bytes.</summary>
public sealed record FileRead(string Name, DateTime Modified, long Size);
