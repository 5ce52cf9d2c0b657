using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Sync.Connectors.Postgres;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Scheduling;
using Sync.Jobs;

namespace Sync.Coordinator.Api;

/// <summary>Listing jobs and validating job files.</summary>
internal static class JobsApi
{
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/jobs", ListJobsAsync);
        app.MapPost("/api/jobs/validate", ValidateAsync);
        return app;
    }

    private static async Task<Ok<List<JobView>>> ListJobsAsync(JobCatalog jobs, CronTimetable timetable, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        var watermarks = await dbContext.Watermarks.AsNoTracking().ToDictionaryAsync(w => w.Key, cancellationToken);
        var pauses = await dbContext.JobPauses.AsNoTracking().ToDictionaryAsync(p => p.JobName, cancellationToken);
        var lastRuns = (await dbContext.Runs.AsNoTracking()
                .GroupBy(r => r.JobName)
                .Select(g => g.OrderByDescending(r => r.StartedAt).First())
                .ToListAsync(cancellationToken))
            .ToDictionary(r => r.JobName);
        var views = jobs.All.Select(job =>
        {
            watermarks.TryGetValue(job.Name, out var watermark);
            pauses.TryGetValue(job.Name, out var pause);
            lastRuns.TryGetValue(job.Name, out var lastRun);
            return new JobView(job.Name, job.Schedule, job.Mode.ToString(), job.BatchSize, job.Source.Query is null ? job.Source.Table : "(query)", job.Destination.Table,
                watermark?.LastSync, watermark?.Cursor, watermark?.UpdatedAt, pause is not null, pause?.PausedAt,
                lastRun is null ? null : RunView.Of(lastRun), timetable.NextOccurrence(job.Name));
        }).ToList();
        return TypedResults.Ok(views);
    }

    /// <summary>
    /// Validates one job file sent as the request body (YAML): its syntax and fields, then its
    /// source and destination against their live schemas. ?file= names it in the errors.
    /// </summary>
    private static async Task<Results<Ok<ValidationView>, UnprocessableEntity<ValidationView>>> ValidateAsync(
        HttpRequest request, JobSchemaCheck schemaCheck, CancellationToken cancellationToken, string file = "job.yml")
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var yaml = await reader.ReadToEndAsync(cancellationToken);
        var parsed = JobFile.Parse(yaml, file);
        if (!parsed.IsValid)
        {
            return TypedResults.UnprocessableEntity(new ValidationView(false, parsed.Errors.Select(ErrorView.Of).ToList()));
        }

        var problems = await schemaCheck.CheckAsync(parsed.Job!, cancellationToken);
        var errors = problems.Select(p => new ErrorView(file, 0, 0, p.Field, p.Message, null, $"{file}: {p.Field}: {p.Message}")).ToList();
        return errors.Count == 0
            ? TypedResults.Ok(new ValidationView(true, errors))
            : TypedResults.UnprocessableEntity(new ValidationView(false, errors));
    }
}

internal sealed record JobView(
    string Name,
    string? Schedule,
    string Mode,
    int BatchSize,
    string Source,
    string Destination,
    DateTimeOffset? LastSync,
    string? Watermark,
    DateTimeOffset? WatermarkUpdatedAt,
    bool Paused = false,
    DateTimeOffset? PausedAt = null,
    RunView? LastRun = null,
    DateTimeOffset? NextRun = null);

internal sealed record ValidationView(bool Valid, List<ErrorView> Errors);

internal sealed record ErrorView(string File, int Line, int Column, string Field, string Message, string? Suggestion, string Text)
{
    public static ErrorView Of(JobFileError error) =>
        new(error.File, error.Line, error.Column, error.Field, error.Message, error.Suggestion, error.ToString());
}
