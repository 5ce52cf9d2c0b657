using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// <see cref="VerifyJob"/> for a job into a DuckDB file, asked of the Loader: it holds the file, which
/// DuckDB lets one process open for writing, so the Extractor cannot read it. Responded to with
/// <see cref="JobVerified"/>.
/// </summary>
public sealed record VerifyDuckDbJob(Guid VerificationId, string JobName, JobSpec Job, string? Watermark);
