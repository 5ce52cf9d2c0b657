namespace Sync.Contracts;

/// <summary>
/// Asks the Coordinator for a replay run of a job: the job's pending record dead letters (all, or
/// those in <see cref="Ids"/>) re-enter the stage that set them aside; no extraction, no watermark move.
/// </summary>
public sealed record ReplayDeadLetters(Guid RunId, string JobName, IReadOnlyList<long>? Ids, DateTimeOffset RequestedAt);
