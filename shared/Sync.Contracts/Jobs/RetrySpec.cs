namespace Sync.Contracts.Jobs;

/// <summary>
/// A job's own redelivery policy: the waits before each redelivery of a message that failed its
/// quick in-process retries. Null on <see cref="JobSpec.Retry"/> means the service-wide default
/// (<c>Redelivery__Intervals</c>); an empty list means no redelivery at all.
/// </summary>
public sealed record RetrySpec(IReadOnlyList<TimeSpan> Redelivery);
