using Microsoft.EntityFrameworkCore;
using Sync.Coordinator.Data;
using Sync.Coordinator.Runs;

namespace Sync.Coordinator.Scheduling;

/// <summary>
/// Claims of scheduled starts (sync_scheduled_starts), so that Coordinator replicas sharing one
/// control database start a due run once, not once each (issue 19: with two Coordinators every cron
/// occurrence started two runs, the second refused or run again). A claim is made in the transaction
/// that commits the start's outbox row: the replica whose claim commits first publishes, the others
/// find the row taken and skip. A scheduled verification's occurrence (<c>verify.schedule</c>) is
/// claimed the same way under <c>verify:JOB</c>: a job name has no colon, so it never takes a run's.
/// </summary>
internal static class ScheduledStarts
{
    /// <summary>How long a continuous job's start is held for a run that never appeared (its start was lost): the most a lost start delays the next.</summary>
    public static readonly TimeSpan LostStartTimeout = TimeSpan.FromMinutes(1);

    /// <summary>What a scheduled verification's claim puts before the job's name.</summary>
    public const string VerificationPrefix = "verify:";

    private static readonly string ClaimOccurrenceSql = $$"""
        INSERT INTO {{ControlTables.ScheduledStarts}} (job_name, occurrence, run_id, claimed_at) VALUES ({0}, {1}, {2}, now())
        ON CONFLICT (job_name, occurrence) DO NOTHING
        """;

    // The latest start of a continuous job is taken over once its run exists (or never came) and the
    // job is idle; the idle test sits in the statement, under the row's lock, so that a run committed
    // between the caller's own idle check and this claim is seen.
    private static readonly string ClaimContinuousSql = $$"""
        INSERT INTO {{ControlTables.ScheduledStarts}} AS s (job_name, occurrence, run_id, claimed_at) VALUES ({0}, '-infinity', {1}, now())
        ON CONFLICT (job_name, occurrence) DO UPDATE SET run_id = excluded.run_id, claimed_at = excluded.claimed_at
        WHERE (s.claimed_at < now() - {2}::interval OR EXISTS (SELECT 1 FROM {{ControlTables.Runs}} r WHERE r.correlation_id = s.run_id))
          AND NOT EXISTS (
            SELECT 1 FROM {{ControlTables.Runs}} r
            WHERE r.job_name = s.job_name AND (r.current_state = ANY ({3}) OR r.started_at > {4} OR r.finished_at > {4}))
        """;

    private static readonly string PruneSql = $$"""
        DELETE FROM {{ControlTables.ScheduledStarts}} WHERE job_name = {0} AND occurrence > '-infinity' AND occurrence < {1}
        """;

    /// <summary>
    /// Claims cron <paramref name="occurrence"/> of <paramref name="job"/> for <paramref name="runId"/>; false when another
    /// replica has. Claims a day older than it are dropped: no replica fires an occurrence that old.
    /// </summary>
    public static async Task<bool> ClaimOccurrenceAsync(CoordinatorDbContext dbContext, string job, DateTimeOffset occurrence, Guid runId, CancellationToken cancellationToken)
    {
        if (await dbContext.Database.ExecuteSqlRawAsync(ClaimOccurrenceSql, [job, occurrence, runId], cancellationToken) == 0)
        {
            return false;
        }

        await dbContext.Database.ExecuteSqlRawAsync(PruneSql, [job, occurrence.AddDays(-1)], cancellationToken);
        return true;
    }

    /// <summary>Claims scheduled verification <paramref name="occurrence"/> of <paramref name="job"/>; false when another replica has.</summary>
    public static Task<bool> ClaimVerificationAsync(CoordinatorDbContext dbContext, string job, DateTimeOffset occurrence, Guid verificationId, CancellationToken cancellationToken) =>
        ClaimOccurrenceAsync(dbContext, VerificationPrefix + job, occurrence, verificationId, cancellationToken);

    /// <summary>Claims the next start of continuous <paramref name="job"/> for <paramref name="runId"/>; false when another replica started it or it has a run since <paramref name="quietSince"/>.</summary>
    public static async Task<bool> ClaimContinuousAsync(CoordinatorDbContext dbContext, string job, Guid runId, DateTimeOffset quietSince, CancellationToken cancellationToken) =>
        await dbContext.Database.ExecuteSqlRawAsync(ClaimContinuousSql, [job, runId, LostStartTimeout, RunStates.Active.ToArray(), quietSince], cancellationToken) == 1;
}
