namespace Sync.Contracts.Jobs;

/// <summary>A validated job, as the Coordinator hands it to the other stages for one run.</summary>
public sealed record JobSpec(
    string Name,
    SourceSpec Source,
    TransformSpec Transform,
    DestinationSpec Destination,
    int BatchSize,
    string? Schedule,
    SyncMode Mode = SyncMode.Incremental,
    RetrySpec? Retry = null,
    VerifySpec? Verify = null);
