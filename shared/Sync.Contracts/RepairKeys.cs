namespace Sync.Contracts;

/// <summary>
/// Asks the Coordinator for a repair run of a job (issue 15, item 2): the source rows of
/// <see cref="Keys"/> (source primary-key values, PostgreSQL text form, in key order) are read again
/// and loaded through the pipeline, a key the source no longer has is deleted where the job deletes;
/// no extraction, no watermark move.
/// </summary>
public sealed record RepairKeys(Guid RunId, string JobName, IReadOnlyList<IReadOnlyList<string>> Keys, DateTimeOffset RequestedAt);
