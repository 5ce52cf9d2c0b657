namespace Sync.Contracts;

/// <summary>
/// What a verification found: the rows each side holds (within the watermark), the mismatched keys
/// by kind, and up to a limit the keys themselves (<see cref="Mismatches"/>, destination key order).
/// <see cref="Reason"/> says why a verification could not be made (<see cref="VerifyOutcome.Unverifiable"/>).
/// </summary>
public sealed record JobVerified(
    Guid VerificationId,
    string JobName,
    VerifyOutcome Outcome,
    string? Reason,
    long SourceRows,
    long DestinationRows,
    int Missing,
    int Extra,
    int Different,
    int Duplicated,
    IReadOnlyList<KeyMismatch> Mismatches,
    string? Watermark,
    long DurationMs);
