namespace Sync.Contracts;

/// <summary>Asks the Coordinator to start a run of a job. <see cref="Trigger"/> says who asked (api, schedule, cli).</summary>
public sealed record StartSyncRun(Guid RunId, string JobName, string Trigger, DateTimeOffset RequestedAt);
