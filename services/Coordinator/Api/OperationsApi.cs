using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts.Jobs;
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

    /// <summary>
    /// Pauses a job's schedule. A streams job is paused by its own name (the schedulers skip its
    /// start), known from its file alone; a stream (<c>JOB.STREAM</c>) not resolved since the
    /// Coordinator started is resolved first (503, 422 as a run's start).
    /// </summary>
    private static async Task<Results<Ok<JobPauseView>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> PauseAsync(
        string name, JobCatalog jobs, StreamResolver streams, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        var unresolved = jobs.FindStreams(name)?.Name == name ? null : await StreamsResolution.ResolveIfMissingAsync(jobs, streams, name, "pause it again", cancellationToken);
        if (unresolved?.Invalid is { } invalid)
        {
            return invalid;
        }

        if ((unresolved?.Unanswered ?? UnknownSchedule(name, jobs)) is { } problem)
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

    private static async Task<Results<Ok<JobPauseView>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> ResumeAsync(
        string name, JobCatalog jobs, StreamResolver streams, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        var unresolved = jobs.FindStreams(name)?.Name == name ? null : await StreamsResolution.ResolveIfMissingAsync(jobs, streams, name, "resume it again", cancellationToken);
        if (unresolved?.Invalid is { } invalid)
        {
            return invalid;
        }

        if ((unresolved?.Unanswered ?? UnknownSchedule(name, jobs)) is { } problem)
        {
            return problem;
        }

        await dbContext.JobPauses.Where(p => p.JobName == name).ExecuteDeleteAsync(cancellationToken);
        return TypedResults.Ok(new JobPauseView(name, false, null));
    }

    /// <summary>
    /// Forgets the job's watermark, so its next run extracts from the start. Refused while a run is
    /// active. A stream or a cdc streams job not resolved since the Coordinator started is resolved first.
    /// </summary>
    private static async Task<Results<Ok<WatermarkReset>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> ResetWatermarkAsync(
        string name, JobCatalog jobs, StreamResolver streams, CoordinatorDbContext dbContext, CdcSlots slots, CancellationToken cancellationToken)
    {
        var unresolved = await StreamsResolution.ResolveIfMissingAsync(jobs, streams, name, "reset the watermark again", cancellationToken);
        if (unresolved?.Invalid is { } invalid)
        {
            return invalid;
        }

        if ((unresolved?.Unanswered ?? NoWatermarkOf(name, jobs, "reset the watermark of")) is { } problem)
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

    private static ProblemHttpResult? UnknownSchedule(string name, JobCatalog jobs) =>
        jobs.Find(name) is null && jobs.FindStreams(name)?.Name != name ? UnknownJob(name, jobs) : null;

    public static ProblemHttpResult UnknownJob(string name, JobCatalog jobs)
    {
        var (title, detail) = jobs.NotRunnable(name);
        return Problem(StatusCodes.Status404NotFound, title, detail);
    }

    /// <summary>
    /// Why a watermark operation finds no job of this name, or null when it does: a streams job by
    /// cursor as a whole has no watermark of its own, each of its streams has one (409); any other name is unknown (404).
    /// </summary>
    public static ProblemHttpResult? NoWatermarkOf(string name, JobCatalog jobs, string what) =>
        jobs.Find(name) is not null ? null
        : jobs.FindStreams(name) is { Defaults.Mode: not SyncMode.Cdc } streamsJob && streamsJob.Name == name
            ? Problem(
                StatusCodes.Status409Conflict,
                $"Cannot {what} streams job \"{name}\" as a whole: each of its streams is a job of its own with its own watermark.",
                $"Name one stream, {name}.STREAM (syncctl runs {name} lists them).")
            : UnknownJob(name, jobs);

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
