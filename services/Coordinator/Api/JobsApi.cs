using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using MassTransit;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Scheduling;
using Sync.Jobs;

namespace Sync.Coordinator.Api;

/// <summary>Listing jobs, reading the jobs folder again and validating job files.</summary>
internal static class JobsApi
{
    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/jobs", ListJobsAsync);
        app.MapPost("/api/jobs/validate", ValidateAsync);
        app.MapPost("/api/jobs/reload", Reload);
        return app;
    }

    /// <summary>Reads the jobs folder now (it is also watched); answers what changed and every invalid file with its errors.</summary>
    private static Results<Ok<JobsReloaded>, ProblemHttpResult> Reload(JobCatalog jobs)
    {
        var change = jobs.Reload();
        if (change.Errors.Count > 0 && change.Invalid.Count == 0)
        {
            // Only a folder that cannot be read gives errors without invalid files.
            return OperationsApi.Problem(StatusCodes.Status500InternalServerError, $"The jobs folder {jobs.Directory} could not be read; the jobs stay as they were.", string.Join(" ", change.Errors));
        }

        return TypedResults.Ok(new JobsReloaded(
            change.Added, change.Changed, change.Removed,
            change.Invalid.Select(f => new InvalidFileView(f.Name ?? f.File, f.File, f.Errors.Select(ErrorView.Of).ToList())).ToList()));
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
        var verifications = (await dbContext.Verifications.AsNoTracking()
                .GroupBy(v => v.JobName)
                .Select(g => g.OrderByDescending(v => v.VerifiedAt).First())
                .ToListAsync(cancellationToken))
            .ToDictionary(v => v.JobName);
        JobView View(string name, JobSpec? job, InvalidJobFile? invalid)
        {
            watermarks.TryGetValue(name, out var watermark);
            // A stream (JOB.STREAM) is paused by its own pause or by its streams job's, which the schedulers skip as a whole.
            if (!pauses.TryGetValue(name, out var pause) && jobs.FindStreams(name) is { } parent && parent.Name != name)
            {
                pauses.TryGetValue(parent.Name, out pause);
            }

            lastRuns.TryGetValue(name, out var lastRun);
            verifications.TryGetValue(name, out var verification);
            return new JobView(
                name, invalid is null, invalid?.File, invalid?.Errors.Select(ErrorView.Of).ToList() ?? [],
                job?.Schedule, job?.Mode.ToString(), job?.BatchSize, job is null ? null : job.Source.Query is null ? job.Source.Table : "(query)", job?.Destination.Table,
                watermark?.LastSync, watermark?.Cursor, watermark?.UpdatedAt, pause is not null, pause?.PausedAt,
                lastRun is null ? null : RunView.Of(lastRun), timetable.NextOccurrence(name))
            {
                LastVerification = verification is null ? null : VerificationSummary.Of(verification),
            };
        }

        // A file whose job name cannot be read is listed under its file name.
        var views = jobs.All.Select(job => View(job.Name, job, null))
            .Concat(jobs.Invalid.Select(file => View(file.Name ?? file.File, null, file)))
            .OrderBy(v => v.Name, StringComparer.Ordinal)
            .ToList();
        return TypedResults.Ok(views);
    }

    /// <summary>
    /// Validates one job file sent as the request body (YAML): its syntax and fields, then its
    /// source and destination against their live schemas, which the Extractor reads (it holds the
    /// connections; 503 when it does not answer). ?file= names it in the errors.
    /// </summary>
    private static async Task<Results<Ok<ValidationView>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> ValidateAsync(
        HttpRequest request, StageRequests stages, CancellationToken cancellationToken, string file = "job.yml")
    {
        using var reader = new StreamReader(request.Body, Encoding.UTF8);
        var yaml = await reader.ReadToEndAsync(cancellationToken);
        var parsed = JobFile.Parse(yaml, file);
        if (parsed.Streams is { } streamsJob)
        {
            return await ValidateStreamsAsync(streamsJob, stages, file, cancellationToken);
        }

        if (!parsed.IsValid)
        {
            return TypedResults.UnprocessableEntity(new ValidationView(false, parsed.Errors.Select(ErrorView.Of).ToList()));
        }

        JobSchemaChecked checkedSchema;
        try
        {
            checkedSchema = await stages.GetResponseAsync<CheckJobSchema, JobSchemaChecked>(new CheckJobSchema(parsed.Job!.Name, parsed.Job), cancellationToken);
        }
        catch (RequestTimeoutException)
        {
            return OperationsApi.Problem(
                StatusCodes.Status503ServiceUnavailable,
                $"The Extractor did not answer within {stages.Timeout.TotalSeconds:0} s; the live schemas were not checked.",
                "The file itself is valid. Start the Extractor (it holds the connections) and validate again.");
        }
        catch (RequestFaultException fault)
        {
            return OperationsApi.Problem(
                StatusCodes.Status503ServiceUnavailable,
                $"The Extractor could not check the live schemas: {fault.Fault?.Exceptions.FirstOrDefault()?.Message ?? fault.Message}",
                "The file itself is valid. See the Extractor's log, then validate again.");
        }

        var errors = checkedSchema.Problems.Select(p => new ErrorView(file, 0, 0, p.Field, p.Message, null, $"{file}: {p.Field}: {p.Message}")).ToList();
        return errors.Count == 0
            ? TypedResults.Ok(new ValidationView(true, errors))
            : TypedResults.UnprocessableEntity(new ValidationView(false, errors));
    }

    // A streams file: its streams resolved against the source catalog, then each stream job checked
    // as a job of one table is, its problems named by stream.
    private static async Task<Results<Ok<ValidationView>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> ValidateStreamsAsync(
        StreamsJob streamsJob, StageRequests stages, string file, CancellationToken cancellationToken)
    {
        var errors = new List<ErrorView>();
        try
        {
            var discovered = await stages.GetResponseAsync<DiscoverSourceTables, SourceTablesDiscovered>(
                new DiscoverSourceTables(streamsJob.Name, streamsJob.SourceConnection, streamsJob.Schemas), cancellationToken);
            if (discovered.Problem is { } problem)
            {
                return TypedResults.UnprocessableEntity(new ValidationView(false, [new ErrorView(file, 0, 0, "source.connection", problem, null, $"{file}: source.connection: {problem}")]));
            }

            var expansion = StreamExpansion.Expand(streamsJob, discovered.Tables);
            if (!expansion.IsValid)
            {
                return TypedResults.UnprocessableEntity(new ValidationView(false, expansion.Errors.Select(ErrorView.Of).ToList()));
            }

            // A cdc streams job's streams are checked one by one, as the tables they are.
            foreach (var job in expansion.Jobs.SelectMany(j => j.Streams ?? [j]))
            {
                var checkedSchema = await stages.GetResponseAsync<CheckJobSchema, JobSchemaChecked>(new CheckJobSchema(job.Name, job), cancellationToken);
                errors.AddRange(checkedSchema.Problems.Select(p => new ErrorView(file, 0, 0, $"{job.Name}: {p.Field}", p.Message, null, $"{file}: stream {job.Name}: {p.Field}: {p.Message}")));
            }
        }
        catch (Exception e) when (e is RequestTimeoutException or RequestFaultException)
        {
            return OperationsApi.Problem(
                StatusCodes.Status503ServiceUnavailable,
                $"The Extractor did not answer ({e.Message}); the streams were not resolved against the source.",
                "The file itself is valid. Start the Extractor (it holds the connections) and validate again.");
        }

        return errors.Count == 0
            ? TypedResults.Ok(new ValidationView(true, errors))
            : TypedResults.UnprocessableEntity(new ValidationView(false, errors));
    }
}

/// <summary>
/// A job as GET /api/jobs lists it. An invalid file (<see cref="Valid"/> false) is listed too, under
/// its job name or, when that cannot be read, its file, with every error and no settings: its job does not run.
/// </summary>
internal sealed record JobView(
    string Name,
    bool Valid,
    string? File,
    List<ErrorView> Errors,
    string? Schedule,
    string? Mode,
    int? BatchSize,
    string? Source,
    string? Destination,
    DateTimeOffset? LastSync,
    string? Watermark,
    DateTimeOffset? WatermarkUpdatedAt,
    bool Paused,
    DateTimeOffset? PausedAt,
    RunView? LastRun,
    DateTimeOffset? NextRun)
{
    /// <summary>The job's latest <c>syncctl verify</c>, or null before the first.</summary>
    public VerificationSummary? LastVerification { get; init; }
}

/// <summary>A verification as the job list shows it: outcome, when, and the keys found differing.</summary>
internal sealed record VerificationSummary(string Outcome, DateTimeOffset VerifiedAt, int Mismatched, string? Reason)
{
    public static VerificationSummary Of(SyncVerification v) => new(v.Outcome, v.VerifiedAt, v.Missing + v.Extra + v.Different + v.Duplicated, v.Reason);
}

internal sealed record ValidationView(bool Valid, List<ErrorView> Errors);

internal sealed record ErrorView(string File, int Line, int Column, string Field, string Message, string? Suggestion, string Text)
{
    public static ErrorView Of(JobFileError error) =>
        new(error.File, error.Line, error.Column, error.Field, error.Message, error.Suggestion, error.ToString());
}

/// <summary>What POST /api/jobs/reload changed: jobs added, changed and removed (they take effect at their next run), and the invalid files.</summary>
internal sealed record JobsReloaded(IReadOnlyList<string> Added, IReadOnlyList<string> Changed, IReadOnlyList<string> Removed, IReadOnlyList<InvalidFileView> Invalid);

/// <summary>A job file that defines no job: the job name it gives (else the file) and its errors.</summary>
internal sealed record InvalidFileView(string Name, string File, IReadOnlyList<ErrorView> Errors);
