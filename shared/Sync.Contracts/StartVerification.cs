namespace Sync.Contracts;

/// <summary>
/// Verify a job now, on its own schedule (<c>verify.schedule</c>); the Coordinator asks the Extractor
/// (<see cref="VerifyJob"/>) and keeps the result as for <c>syncctl verify</c>. <see cref="Trigger"/> says why.
/// </summary>
public sealed record StartVerification(Guid VerificationId, string JobName, string Trigger, DateTimeOffset RequestedAt);
