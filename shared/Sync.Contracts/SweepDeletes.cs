using Sync.Contracts.Jobs;

namespace Sync.Contracts;

/// <summary>
/// Every batch of a full-refresh run is loaded: tells the Loader to remove (or soft-delete) the
/// destination rows whose key the run did not load, in one transaction, unless a later run of the
/// job (a larger <see cref="Fence"/>) has loaded since. Applied once however often it is delivered.
/// </summary>
public sealed record SweepDeletes(Guid RunId, string JobName, JobSpec Job, long Fence);
