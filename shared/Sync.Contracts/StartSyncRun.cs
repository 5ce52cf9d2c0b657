namespace Sync.Contracts;

/// <summary>
/// Asks the Coordinator to start a run of a job. <see cref="Trigger"/> says who asked (api, schedule, cli).
/// With a <see cref="Range"/> the run is a backfill: it reads only that slice of the cursor and leaves
/// the job's watermark where it is.
/// </summary>
public sealed record StartSyncRun(Guid RunId, string JobName, string Trigger, DateTimeOffset RequestedAt, CursorRange? Range = null);
