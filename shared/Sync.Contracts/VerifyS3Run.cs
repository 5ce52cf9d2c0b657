using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// <see cref="VerifyJob"/> for a job into S3, asked of the Loader (it has the S3 connection): the run's
/// manifest and objects against what the run recorded — its accepted extraction, <see cref="Batches"/>
/// and <see cref="Rows"/> written. Responded to with <see cref="JobVerified"/>.
/// </summary>
public sealed record VerifyS3Run(Guid VerificationId, string JobName, JobSpec Job, Guid RunId, Guid ExtractionId, int Batches, long Rows);
