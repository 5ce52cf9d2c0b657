using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Runs;

namespace Sync.Coordinator.Api;

/// <summary>Starting runs and reading them.</summary>
internal static class RunsApi
{
    public static IEndpointRouteBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/jobs/{name}/runs", StartRunAsync);
        app.MapGet("/api/jobs/{name}/runs", ListRunsAsync);
        app.MapGet("/api/runs/{id:guid}", GetRunAsync);
        return app;
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
        if (run is null)
        {
            return TypedResults.NotFound();
        }

        var changes = await SchemaChangesAsync(dbContext, [id], cancellationToken);
        return TypedResults.Ok(RunView.Of(run, changes.GetValueOrDefault(id)));
    }

    private static async Task<Ok<List<RunView>>> ListRunsAsync(string name, CoordinatorDbContext dbContext, CancellationToken cancellationToken, int limit = 20)
    {
        var runs = await dbContext.Runs.AsNoTracking()
            .Where(r => r.JobName == name)
            .OrderByDescending(r => r.StartedAt)
            .Take(Math.Clamp(limit, 1, 500))
            .ToListAsync(cancellationToken);
        var changes = await SchemaChangesAsync(dbContext, [.. runs.Select(r => r.CorrelationId)], cancellationToken);
        return TypedResults.Ok(runs.Select(r => RunView.Of(r, changes.GetValueOrDefault(r.CorrelationId))).ToList());
    }

    // Each change once per run, in the order its batches were loaded (a discard repeats on every batch it meets).
    private static async Task<Dictionary<Guid, IReadOnlyList<string>>> SchemaChangesAsync(CoordinatorDbContext dbContext, Guid[] runs, CancellationToken cancellationToken)
    {
        var batches = await dbContext.RunBatches.AsNoTracking()
            .Where(b => runs.Contains(b.RunId) && b.SchemaChanges != null)
            .OrderBy(b => b.LoadedAt).ThenBy(b => b.BatchSeq)
            .Select(b => new { b.RunId, b.SchemaChanges })
            .ToListAsync(cancellationToken);
        return batches.GroupBy(b => b.RunId).ToDictionary(g => g.Key, g => (IReadOnlyList<string>)[.. g.SelectMany(b => b.SchemaChanges!).Distinct()]);
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
    long Deleted = 0,
    IReadOnlyList<string>? SchemaChanges = null)
{
    public static RunView Of(SyncRunState run) => Of(run, null);

    /// <param name="schemaChanges">What the run's batches did to the destination table's shape (<see cref="Data.SyncRunBatch.SchemaChanges"/>).</param>
    public static RunView Of(SyncRunState run, IReadOnlyList<string>? schemaChanges) => new(
        run.CorrelationId, run.JobName, run.CurrentState, run.Trigger, run.ExpectedBatches, run.LoadedBatches, run.ExtractedRows,
        run.Processed, run.Inserted, run.Updated, run.Skipped, run.Errors, run.FailureReason, run.StartedAt, run.FinishedAt,
        run.FinishedAt is { } finished ? (long)(finished - run.StartedAt).TotalMilliseconds : null, run.Deleted, schemaChanges);
}

/// <summary>The body of a problem+json answer: what went wrong and what to do.</summary>
internal sealed record ProblemDetailsBody(string Title, string? Detail)
{
    public static ProblemDetailsBody Of(string title, string? detail = null) => new(title, detail);
}
