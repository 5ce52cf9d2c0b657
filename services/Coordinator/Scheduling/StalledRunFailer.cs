using Coravel.Invocable;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.Runs;

namespace Sync.Coordinator.Scheduling;

/// <summary>
/// Fails active runs that made no progress for <see cref="CoordinatorOptions.RunTimeout"/>, so a lost
/// message cannot hold a job forever. Progress is any write of the run's saga row (UpdatedAt): a batch
/// recorded, whether or not its extraction has completed, the extraction's report that it still reads
/// (ExtractionProgressed), its completion, a delete sweep's end. It publishes straight to the bus: a cancel
/// lost to a crash is published again at the next check.
/// </summary>
internal sealed class StalledRunFailer(CoordinatorDbContext dbContext, IBus bus, IOptions<CoordinatorOptions> options) : IInvocable
{
    public async Task Invoke()
    {
        var timeout = options.Value.RunTimeout;
        var before = DateTimeOffset.UtcNow - timeout;
        var stale = await dbContext.Runs.AsNoTracking()
            .Where(r => RunStates.Active.Contains(r.CurrentState) && r.UpdatedAt < before)
            .Select(r => new { r.CorrelationId, r.JobName })
            .ToListAsync();
        foreach (var run in stale)
        {
            await bus.Publish(new CancelSyncRun(run.CorrelationId, run.JobName, $"No progress for {timeout}; the run timed out."));
        }
    }
}
