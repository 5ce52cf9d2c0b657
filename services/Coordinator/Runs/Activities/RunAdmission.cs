using Microsoft.EntityFrameworkCore;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// Whether a new run of a job may start: the job must be defined and have no other active run (the
/// partial unique index sync_runs_one_active enforces the latter if two starts race). A refused run
/// gets its reason and ends at once.
/// </summary>
internal static class RunAdmission
{
    /// <summary>Records the start on <paramref name="run"/>; returns the job, or null when the run was refused.</summary>
    public static async Task<JobSpec?> AdmitAsync(
        SyncRunState run, string jobName, string trigger, DateTimeOffset requestedAt, JobCatalog jobs, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        run.JobName = jobName;
        run.Trigger = trigger;
        run.RequestedAt = requestedAt;
        run.StartedAt = DateTimeOffset.UtcNow;

        var job = jobs.Find(jobName);
        if (job is null)
        {
            return Refuse(run, $"Job \"{jobName}\" is not defined in {jobs.Directory}.");
        }

        var active = await dbContext.Runs.AsNoTracking()
            .Where(r => r.JobName == jobName && r.CorrelationId != run.CorrelationId && RunStates.Active.Contains(r.CurrentState))
            .Select(r => (Guid?)r.CorrelationId)
            .FirstOrDefaultAsync(cancellationToken);
        return active is null
            ? job
            : Refuse(run, $"Run {active} of job \"{jobName}\" is still active; at most one run of a job is active at a time.");
    }

    private static JobSpec? Refuse(SyncRunState run, string reason)
    {
        run.FailureReason = reason;
        run.FinishedAt = run.StartedAt;
        return null;
    }
}
