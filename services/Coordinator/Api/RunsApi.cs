using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Runs;

namespace Sync.Coordinator.Api;

/// <summary>Starting runs, cancelling them and reading them.</summary>
internal static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/jobs/{name}/runs", StartRunAsync);
        app.MapGet("/api/jobs/{name}/runs", ListRunsAsync);
        app.MapGet("/api/runs/{id:guid}", GetRunAsync);
        app.MapPost("/api/runs/{id:guid}/cancel", CancelRunAsync);
        return app;
    }

    /// <summary>
    /// Ends an active run Failed with the operator's reason, its watermark unchanged, through the run
    /// saga as a timeout does: batches of its extraction still on their way are refused by the job's
    /// fence once a later run begins, and the next run reads from the old watermark. 202 once the cancel
    /// is durable; 404 for an unknown run; 409 for a run already finished.
    /// </summary>
    private static async Task<Results<Accepted<RunView>, NotFound<ProblemDetailsBody>, Conflict<ProblemDetailsBody>>> CancelRunAsync(
        Guid id, CoordinatorDbContext dbContext, IPublishEndpoint publish, CancellationToken cancellationToken, string? reason = null)
    {
        var run = await dbContext.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.CorrelationId == id, cancellationToken);
        if (run is null)
        {
            return TypedResults.NotFound(ProblemDetailsBody.Of($"There is no run {id}.", "List a job's runs with GET /api/jobs/{name}/runs (sync runs <job>)."));
        }

        if (!RunStates.Active.Contains(run.CurrentState))
        {
            return TypedResults.Conflict(ProblemDetailsBody.Of($"Run {id} of job \"{run.JobName}\" is not active: it ended {run.CurrentState}.", "Only an active run can be cancelled."));
        }

        var why = string.IsNullOrWhiteSpace(reason) ? "Cancelled by the operator." : $"Cancelled by the operator: {reason.Trim()}";
        await publish.PublishDurablyAsync(dbContext, new CancelSyncRun(id, run.JobName, why), cancellationToken);
        return TypedResults.Accepted($"/api/runs/{id}", RunView.Of(run));
    }

    private static async Task<Results<Accepted<RunStarted>, NotFound<ProblemDetailsBody>, Conflict<ProblemDetailsBody>>> StartRunAsync(
        string name, JobCatalog jobs, CoordinatorDbContext dbContext, IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        if (jobs.Find(name) is null)
        {
            var (title, detail) = jobs.NotRunnable(name);
            return TypedResults.NotFound(ProblemDetailsBody.Of(title, detail));
        }

        var active = await dbContext.Runs.AsNoTracking()
            .Where(r => r.JobName == name && RunStates.Active.Contains(r.CurrentState))
            .Select(r => (Guid?)r.CorrelationId)
            .FirstOrDefaultAsync(cancellationToken);
        if (active is not null)
        {
            return TypedResults.Conflict(ProblemDetailsBody.Of($"Run {active} of job \"{name}\" is still active.", "Wait for it to finish, then start again."));
        }

        var runId = NewId.NextGuid();
        // The 202 is sent only once the request is durable.
        await publish.PublishDurablyAsync(dbContext, new StartSyncRun(runId, name, "api", DateTimeOffset.UtcNow), cancellationToken);
        return TypedResults.Accepted($"/api/runs/{runId}", new RunStarted(runId, name));
    }

    private static async Task<Results<Ok<RunView>, NotFound>> GetRunAsync(Guid id, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        var run = await dbContext.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.CorrelationId == id, cancellationToken);
        return run is null ? TypedResults.NotFound() : TypedResults.Ok(RunView.Of(run));
    }

    private static async Task<Ok<List<RunView>>> ListRunsAsync(string name, CoordinatorDbContext dbContext, CancellationToken cancellationToken, int limit = 20)
    {
        var runs = await dbContext.Runs.AsNoTracking()
            .Where(r => r.JobName == name)
            .OrderByDescending(r => r.StartedAt)
            .Take(Math.Clamp(limit, 1, 500))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(runs.Select(RunView.Of).ToList());
    }
}

internal sealed record RunStarted(Guid RunId, string JobName);

/// <summary>A run as the API shows it.</summary>
internal sealed record RunView(
    Guid RunId,
    string JobName,
    string State,
    string Trigger,
    int? ExpectedBatches,
    int LoadedBatches,
    long ExtractedRows,
    long Processed,
    long Inserted,
    long Updated,
    long Skipped,
    long Errors,
    string? FailureReason,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    long? DurationMs,
    long Deleted = 0)
{
    public static RunView Of(SyncRunState run) => new(
        run.CorrelationId, run.JobName, run.CurrentState, run.Trigger, run.ExpectedBatches, run.LoadedBatches, run.ExtractedRows,
        run.Processed, run.Inserted, run.Updated, run.Skipped, run.Errors, run.FailureReason, run.StartedAt, run.FinishedAt,
        run.FinishedAt is { } finished ? (long)(finished - run.StartedAt).TotalMilliseconds : null, run.Deleted);
}

/// <summary>The body of a problem+json answer: what went wrong and what to do.</summary>
internal sealed record ProblemDetailsBody(string Title, string? Detail)
{
    public static ProblemDetailsBody Of(string title, string? detail = null) => new(title, detail);
}
