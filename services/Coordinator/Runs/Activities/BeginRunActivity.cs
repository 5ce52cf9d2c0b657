using System.Text.Json;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;

namespace Sync.Coordinator.Runs.Activities;

/// <summary>
/// Starts a run: refuses it when the job is unknown or already has an active run, otherwise reads
/// the committed watermark and asks the Extractor for everything after it. A backfill (a start with
/// a range) asks for that range instead and commits no watermark (<see cref="CompleteRunActivity"/>).
/// </summary>
internal sealed class BeginRunActivity(JobCatalog jobs, CoordinatorDbContext dbContext, IOptions<CoordinatorOptions> options) : IStateMachineActivity<SyncRunState, StartSyncRun>
{
    /// <summary>The trigger of a backfill run, which leaves the job's watermark where it is.</summary>
    public const string BackfillTrigger = "backfill";

    public async Task Execute(BehaviorContext<SyncRunState, StartSyncRun> context, IBehavior<SyncRunState, StartSyncRun> next)
    {
        var run = context.Saga;
        var message = context.Message;
        var job = await RunAdmission.AdmitAsync(run, message.JobName, message.Trigger, message.RequestedAt, jobs, dbContext, context.CancellationToken);
        if (job is null)
        {
            await next.Execute(context);
            return;
        }

        if (message.Range is { } range)
        {
            if (job.Mode != SyncMode.Incremental)
            {
                run.FailureReason = $"Job \"{job.Name}\" is a {job.Mode.ToString().ToLowerInvariant()} job; only an incremental job's cursor can be backfilled.";
                run.FinishedAt = run.StartedAt;
                await next.Execute(context);
                return;
            }

            run.Fence = await RunFences.NextAsync(dbContext, context.CancellationToken);
            await context.Publish(
                new ExtractBatches(run.CorrelationId, job.Name, job, null, run.Fence, RunProgress.ReportInterval(options.Value.RunTimeout), range),
                context.CancellationToken);
            await next.Execute(context);
            return;
        }

        var watermark = await dbContext.Watermarks.AsNoTracking()
            .FirstOrDefaultAsync(w => w.Key == message.JobName, context.CancellationToken);
        if (watermark is not null && job.Mode != SyncMode.FullRefresh && Moved(job, watermark) is { } reason)
        {
            run.FailureReason = reason;
            run.FinishedAt = run.StartedAt;
            await next.Execute(context);
            return;
        }

        run.StartCursor = watermark?.Cursor;
        // A full refresh reads the whole source whatever the watermark says.
        var after = watermark is null || job.Mode == SyncMode.FullRefresh ? null : JsonSerializer.Deserialize<CursorPosition>(watermark.Cursor);
        run.SweepsDeletes = job.Mode == SyncMode.FullRefresh && job.Destination.Deletes != DeleteMode.Keep;
        run.Fence = await RunFences.NextAsync(dbContext, context.CancellationToken);
        // Before the Extractor can create the slot, so that a removed job's slot is always known.
        await CdcSlotCleanup.RecordAsync(dbContext, job, context.CancellationToken);
        await context.Publish(
            new ExtractBatches(run.CorrelationId, job.Name, job, after, run.Fence, RunProgress.ReportInterval(options.Value.RunTimeout)),
            context.CancellationToken);
        await next.Execute(context);
    }

    /// <summary>Why the job may not read on from its watermark (its file changed what the watermark is a position in); null when it may.</summary>
    private static string? Moved(JobSpec job, SyncWatermark watermark)
    {
        if (WatermarkOrigin.Read(watermark.Metadata) is not { } origin)
        {
            return null;
        }

        var differences = origin.Differences(WatermarkOrigin.Of(job));
        return differences.Count == 0
            ? null
            : $"Job \"{job.Name}\" changed since its watermark was committed: {string.Join("; ", differences)}. " +
              $"Reading on from that watermark could skip rows, so the run is refused and the watermark kept. " +
              $"To copy again from the start: syncctl reset {job.Name} (DELETE /api/jobs/{job.Name}/watermark), then run it; or restore the job file.";
    }

    public Task Faulted<TException>(BehaviorExceptionContext<SyncRunState, StartSyncRun, TException> context, IBehavior<SyncRunState, StartSyncRun> next)
        where TException : Exception => next.Faulted(context);

    public void Probe(ProbeContext context) => context.CreateScope("begin-run");

    public void Accept(StateMachineVisitor visitor) => visitor.Visit(this);
}
