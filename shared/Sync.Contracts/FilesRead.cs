namespace Sync.Contracts;

/// <summary>
/// The files a files source has read and still lists, so that each is read once whatever its modified
/// time, and again when its modified time or size changes. Files modified at or before
/// <see cref="ForgottenThrough"/> count as read without an entry: the oldest entries are dropped
/// once there are more than the source remembers.
/// </summary>
public sealed record FilesRead(IReadOnlyList<FileRead> Files, DateTime? ForgottenThrough = null);
