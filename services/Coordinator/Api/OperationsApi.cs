using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Runs;

namespace Sync.Coordinator.Api;

/// <summary>An operator's levers: pause and resume a job's schedule, reset its watermark, read a run's metrics.</summary>
internal static class OperationsApi
{
    public static IEndpointRouteBuilder MapOperationsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/jobs/{name}/pause", PauseAsync);
        app.MapPost("/api/jobs/{name}/resume", ResumeAsync);
        app.MapDelete("/api/jobs/{name}/watermark", ResetWatermarkAsync);
        app.MapGet("/api/runs/{id:guid}/metrics", GetMetricsAsync);
        return app;
    }

    private static async Task<Results<Ok<JobPauseView>, ProblemHttpResult>> PauseAsync(
        string name, JobCatalog jobs, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        if (UnknownJob(name, jobs) is { } problem)
        {
            return problem;
        }

        var pause = await dbContext.JobPauses.FirstOrDefaultAsync(p => p.JobName == name, cancellationToken);
        if (pause is null)
        {
            pause = new SyncJobPause { JobName = name, PausedAt = DateTimeOffset.UtcNow };
            dbContext.JobPauses.Add(pause);
            await dbContext.SaveChangesAsync(cancellationToken);
        }

        return TypedResults.Ok(new JobPauseView(name, true, pause.PausedAt));
    }

    private static async Task<Results<Ok<JobPauseView>, ProblemHttpResult>> ResumeAsync(
        string name, JobCatalog jobs, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        if (UnknownJob(name, jobs) is { } problem)
        {
            return problem;
        }

        await dbContext.JobPauses.Where(p => p.JobName == name).ExecuteDeleteAsync(cancellationToken);
        return TypedResults.Ok(new JobPauseView(name, false, null));
    }

    /// <summary>Forgets the job's watermark, so its next run extracts from the start. Refused while a run is active.</summary>
    private static async Task<Results<Ok<WatermarkReset>, ProblemHttpResult>> ResetWatermarkAsync(
        string name, JobCatalog jobs, CoordinatorDbContext dbContext, CdcSlots slots, CancellationToken cancellationToken)
    {
        if (UnknownJob(name, jobs) is { } problem)
        {
            return problem;
        }

        var active = await dbContext.Runs.AsNoTracking()
            .Where(r => r.JobName == name && RunStates.Active.Contains(r.CurrentState))
            .Select(r => (Guid?)r.CorrelationId)
            .FirstOrDefaultAsync(cancellationToken);
        if (active is not null)
        {
            return Problem(StatusCodes.Status409Conflict, $"Run {active} of job \"{name}\" is still active.", "Wait for it to finish, then reset the watermark.");
        }

        var previous = await dbContext.Watermarks.AsNoTracking().FirstOrDefaultAsync(w => w.Key == name, cancellationToken);
        await dbContext.Watermarks.Where(w => w.Key == name).ExecuteDeleteAsync(cancellationToken);
        var slotKept = await slots.DropForResetAsync(jobs.Find(name)!, cancellationToken);
        return TypedResults.Ok(new WatermarkReset(name, previous?.Cursor, previous?.LastSync) { CdcSlotKept = slotKept });
    }

    private static async Task<Results<Ok<RunMetricsView>, ProblemHttpResult>> GetMetricsAsync(Guid id, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        var run = await dbContext.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.CorrelationId == id, cancellationToken);
        if (run is null)
        {
            return Problem(StatusCodes.Status404NotFound, $"There is no run {id}.", "List a job's runs with GET /api/jobs/{name}/runs (syncctl runs <job>).");
        }

        var batches = await dbContext.RunBatches.AsNoTracking().Where(b => b.RunId == id).OrderBy(b => b.LoadedAt).ThenBy(b => b.BatchSeq).ToListAsync(cancellationToken);
        var finished = run.FinishedAt ?? DateTimeOffset.UtcNow;
        var seconds = Math.Max((finished - run.StartedAt).TotalSeconds, 0.001);
        return TypedResults.Ok(new RunMetricsView(
            RunView.Of(run),
            batches.Count,
            batches.Sum(b => (long)b.Rows),
            Math.Round(run.Processed / seconds, 1),
            batches.Select(b => new BatchMetricsView(b.BatchSeq, b.Rows, b.Inserted, b.Updated, b.Skipped, b.Failed, b.LoadedAt, b.Deleted, b.Stream)).ToList()));
    }

    private static ProblemHttpResult? UnknownJob(string name, JobCatalog jobs) =>
        jobs.Find(name) is null && jobs.NotRunnable(name) is var (title, detail)
            ? Problem(StatusCodes.Status404NotFound, title, detail)
            : null;

    public static ProblemHttpResult Problem(int status, string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: status);
}

internal sealed record JobPauseView(string JobName, bool Paused, DateTimeOffset? PausedAt);

internal sealed record WatermarkReset(string JobName, string? PreviousWatermark, DateTimeOffset? PreviousLastSync)
{
    /// <summary>Why a cdc job's slot was not dropped now (its next run drops and makes it again); null when it was, or for other jobs.</summary>
    public string? CdcSlotKept { get; init; }
}

internal sealed record BatchMetricsView(int BatchSeq, int Rows, int Inserted, int Updated, int Skipped, int Failed, DateTimeOffset LoadedAt, int Deleted, string? Stream = null);

/// <summary>One run's figures: totals, throughput and each loaded batch.</summary>
internal sealed record RunMetricsView(RunView Run, int Batches, long BatchRows, double RowsPerSecond, List<BatchMetricsView> BatchDetails);
