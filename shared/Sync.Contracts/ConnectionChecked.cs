namespace Sync.Contracts;

/// <summary>
/// What <see cref="CheckConnection"/> found. <see cref="Known"/> false: the Extractor has no such
/// connection. <see cref="Error"/> never holds the connection's password. For PostgreSQL, the server's
/// version and whether it can serve cdc (wal_level logical, a role that may replicate).
/// </summary>
public sealed record ConnectionChecked(
    string Connection,
    bool Known,
    bool Ok,
    string? Kind = null,
    string? Error = null,
    string? ServerVersion = null,
    bool? WalLevelLogical = null,
    bool? CanReplicate = null);
