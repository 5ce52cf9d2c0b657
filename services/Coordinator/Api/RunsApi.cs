using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Runs;
using Sync.Jobs;

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
            return TypedResults.NotFound(ProblemDetailsBody.Of($"There is no run {id}.", "List a job's runs with GET /api/jobs/{name}/runs (syncctl runs <job>)."));
        }

        if (!RunStates.Active.Contains(run.CurrentState))
        {
            return TypedResults.Conflict(ProblemDetailsBody.Of($"Run {id} of job \"{run.JobName}\" is not active: it ended {run.CurrentState}.", "Only an active run can be cancelled."));
        }

        var why = string.IsNullOrWhiteSpace(reason) ? "Cancelled by the operator." : $"Cancelled by the operator: {reason.Trim()}";
        await publish.PublishDurablyAsync(dbContext, new CancelSyncRun(id, run.JobName, why), cancellationToken);
        return TypedResults.Accepted($"/api/runs/{id}", RunView.Of(run));
    }

    /// <summary>
    /// Starts a run of a job; of a streams job, a run of each stream (resolved against the source
    /// first, so new tables join), or of one stream by its name JOB.STREAM.
    /// </summary>
    private static async Task<Results<Accepted<RunStarted>, Accepted<StreamRunsStarted>, NotFound<ProblemDetailsBody>, Conflict<ProblemDetailsBody>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> StartRunAsync(
        string name, JobCatalog jobs, StreamResolver streams, CoordinatorDbContext dbContext, IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        // A cdc streams job is found as a job of its own name once resolved; it is resolved again before each run all the same.
        if (jobs.Find(name) is not { Streams: null } && jobs.FindStreams(name) is { } streamsJob)
        {
            var resolution = await StreamsResolution.ResolveAsync(streams, streamsJob, "start the run again", cancellationToken);
            if (resolution.Unanswered is { } unanswered)
            {
                return unanswered;
            }

            if (resolution.Invalid is { } invalid)
            {
                return invalid;
            }

            var expansion = resolution.Expansion!;

            if (name == streamsJob.Name)
            {
                return TypedResults.Accepted($"/api/jobs/{name}/runs", await StartStreamsAsync(streamsJob.Name, expansion.Jobs.Select(j => j.Name).ToList(), dbContext, publish, cancellationToken));
            }
        }

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

    // A stream whose run is still active keeps it: the others start, and the answer names it.
    private static async Task<StreamRunsStarted> StartStreamsAsync(string jobName, IReadOnlyList<string> streamJobs, CoordinatorDbContext dbContext, IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        var active = await dbContext.Runs.AsNoTracking()
            .Where(r => streamJobs.Contains(r.JobName) && RunStates.Active.Contains(r.CurrentState))
            .Select(r => r.JobName)
            .ToListAsync(cancellationToken);
        var runs = new List<RunStarted>();
        foreach (var stream in streamJobs.Except(active))
        {
            var runId = NewId.NextGuid();
            await publish.PublishDurablyAsync(dbContext, new StartSyncRun(runId, stream, "api", DateTimeOffset.UtcNow), cancellationToken);
            runs.Add(new RunStarted(runId, stream));
        }

        return new StreamRunsStarted(jobName, runs, [.. active.Order(StringComparer.Ordinal)]);
    }

    private static async Task<Results<Ok<RunView>, NotFound>> GetRunAsync(Guid id, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        var run = await dbContext.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.CorrelationId == id, cancellationToken);
        if (run is null)
        {
            return TypedResults.NotFound();
        }

        var changes = await SchemaChangesAsync(dbContext, [id], cancellationToken);
        var streams = await StreamCountsAsync(dbContext, [run], cancellationToken);
        return TypedResults.Ok(RunView.Of(run, changes.GetValueOrDefault(id)) with { Streams = streams.GetValueOrDefault(id) });
    }

    /// <summary>
    /// A job's recent runs, newest first; of a streams job by cursor, its streams' runs (each a job
    /// <c>JOB.STREAM</c> of its own), each naming its stream.
    /// </summary>
    private static async Task<Ok<List<RunView>>> ListRunsAsync(string name, JobCatalog jobs, CoordinatorDbContext dbContext, CancellationToken cancellationToken, int limit = 20)
    {
        var query = dbContext.Runs.AsNoTracking().Where(r => r.JobName == name);
        if (jobs.FindStreams(name) is { } streamsJob && streamsJob.Name == name)
        {
            // Job and stream names hold no dot, so the prefix takes exactly its streams' runs, those of a stream it has left too.
            var prefix = name + ".";
            query = dbContext.Runs.AsNoTracking().Where(r => r.JobName == name || r.JobName.StartsWith(prefix));
        }

        var runs = await query
            .OrderByDescending(r => r.StartedAt)
            .Take(Math.Clamp(limit, 1, 500))
            .ToListAsync(cancellationToken);
        var changes = await SchemaChangesAsync(dbContext, [.. runs.Select(r => r.CorrelationId)], cancellationToken);
        var streams = await StreamCountsAsync(dbContext, runs, cancellationToken);
        return TypedResults.Ok(runs.Select(r => RunView.Of(r, changes.GetValueOrDefault(r.CorrelationId)) with { Streams = streams.GetValueOrDefault(r.CorrelationId) }).ToList());
    }

    // A cdc streams run's counts per stream, from the batches of its accepted extraction (a superseded
    // extraction's batches are not the run's); runs without streams are absent.
    private static async Task<Dictionary<Guid, IReadOnlyList<StreamCountsView>>> StreamCountsAsync(
        CoordinatorDbContext dbContext, IReadOnlyList<SyncRunState> runs, CancellationToken cancellationToken)
    {
        var ids = runs.Select(r => r.CorrelationId).ToArray();
        var counts = await dbContext.RunBatches.AsNoTracking()
            .Where(b => ids.Contains(b.RunId) && b.Stream != null)
            .GroupBy(b => new { b.RunId, b.ExtractionId, Stream = b.Stream! })
            .Select(g => new
            {
                g.Key.RunId,
                g.Key.ExtractionId,
                g.Key.Stream,
                Batches = g.Count(),
                Rows = g.Sum(b => (long)b.Rows),
                Inserted = g.Sum(b => (long)b.Inserted),
                Updated = g.Sum(b => (long)b.Updated),
                Skipped = g.Sum(b => (long)b.Skipped),
                Deleted = g.Sum(b => (long)b.Deleted),
                Failed = g.Sum(b => (long)b.Failed),
            })
            .ToListAsync(cancellationToken);
        var accepted = runs.ToDictionary(r => r.CorrelationId, r => r.ExtractionId);
        return counts
            .Where(c => accepted[c.RunId] is not { } extraction || c.ExtractionId == extraction)
            .GroupBy(c => c.RunId)
            .ToDictionary(
                g => g.Key,
                g => (IReadOnlyList<StreamCountsView>)[.. g.OrderBy(c => c.Stream, StringComparer.Ordinal)
                    .Select(c => new StreamCountsView(c.Stream, c.Batches, c.Rows, c.Inserted, c.Updated, c.Skipped, c.Deleted, c.Failed))]);
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

/// <summary>The runs a start of a streams job began, one per stream, and the streams left alone because a run of theirs is still active.</summary>
internal sealed record StreamRunsStarted(string JobName, List<RunStarted> Runs, List<string> StillActive);

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

    /// <summary>A cdc streams run's counts per stream (from the batches of its accepted extraction); null for other runs.</summary>
    public IReadOnlyList<StreamCountsView>? Streams { get; init; }
}

/// <summary>What a run's batches loaded into one stream (<c>JOB.STREAM</c>).</summary>
internal sealed record StreamCountsView(string Stream, int Batches, long Rows, long Inserted, long Updated, long Skipped, long Deleted, long Failed);

/// <summary>The body of a problem+json answer: what went wrong and what to do.</summary>
internal sealed record ProblemDetailsBody(string Title, string? Detail)
{
    public static ProblemDetailsBody Of(string title, string? detail = null) => new(title, detail);
}
