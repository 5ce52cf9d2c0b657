namespace Sync.Contracts.Jobs;

/// <summary>
/// A validated job, as the Coordinator hands it to the other stages for one run. A batch is cut at
/// <see cref="BatchSize"/> rows or <see cref="BatchBytes"/> bytes of encoded rows, whichever comes first.
/// <see cref="Streams"/>, for a cdc job with <c>streams:</c>, are the jobs of its tables (<c>JOB.STREAM</c>),
/// all followed through this job's one replication slot; each batch travels with its stream's job.
/// </summary>
public sealed record JobSpec(
    string Name,
    SourceSpec Source,
    TransformSpec Transform,
    DestinationSpec Destination,
    int BatchSize,
    string? Schedule,
    SyncMode Mode = SyncMode.Incremental,
    RetrySpec? Retry = null,
    VerifySpec? Verify = null,
    int BatchBytes = BatchLimits.DefaultBytes,
    IReadOnlyList<JobSpec>? Streams = null);
