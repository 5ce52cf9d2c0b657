using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// Asks the Extractor to compare a job's source with its destination (issue 15, item 1) and to
/// respond with <see cref="JobVerified"/>. <see cref="Watermark"/>: the committed cursor value of an
/// incremental job, in PostgreSQL text form; rows past it are left out on both sides.
/// </summary>
public sealed record VerifyJob(Guid VerificationId, string JobName, JobSpec Job, string? Watermark);
