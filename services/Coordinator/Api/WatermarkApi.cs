using System.Globalization;
using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Runs;
using Sync.Coordinator.Runs.Activities;

namespace Sync.Coordinator.Api;

/// <summary>
/// Setting a job's watermark by hand and backfilling a slice of its cursor (issue 18, item 4). The
/// values are read as the cursor column's type by the Extractor, which holds the source connection.
/// </summary>
internal static class WatermarkApi
{
    public static IEndpointRouteBuilder MapWatermarkApi(this IEndpointRouteBuilder app)
    {
        app.MapPut("/api/jobs/{name}/watermark", SetWatermarkAsync);
        app.MapPost("/api/jobs/{name}/backfill", BackfillAsync);
        return app;
    }

    /// <summary>
    /// Sets the watermark to a cursor value: the next run reads the rows whose cursor is greater.
    /// Refused while a run is active; the previous watermark and the time are kept in its metadata.
    /// </summary>
    private static async Task<Results<Ok<WatermarkSet>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> SetWatermarkAsync(
        string name, WatermarkValue body, JobCatalog jobs, StreamResolver streams, StageRequests stages, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        var unresolved = await StreamsResolution.ResolveIfMissingAsync(jobs, streams, name, "set the watermark again", cancellationToken);
        if (unresolved?.Invalid is { } invalid)
        {
            return invalid;
        }

        if ((unresolved?.Unanswered ?? Refusal(name, jobs, "set the watermark of")) is { } refused)
        {
            return refused;
        }

        if (string.IsNullOrWhiteSpace(body.Value))
        {
            return OperationsApi.Problem(StatusCodes.Status400BadRequest, "No value to set the watermark to.", "Send {\"value\": \"…\"}, a value of the job's cursor column.");
        }

        if (await ActiveRunAsync(name, dbContext, cancellationToken) is { } active)
        {
            return OperationsApi.Problem(StatusCodes.Status409Conflict, $"Run {active} of job \"{name}\" is still active.", "Wait for it to finish (or cancel it), then set the watermark.");
        }

        var job = jobs.Find(name)!;
        var (values, problem) = await ParseAsync(job, [body.Value], stages, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var previous = await dbContext.Watermarks.AsNoTracking().FirstOrDefaultAsync(w => w.Key == name, cancellationToken);
        var cursor = JsonSerializer.Serialize(new CursorPosition(values!));
        var setAt = DateTimeOffset.UtcNow;
        var metadata = JsonSerializer.Serialize(new { set_by = "api", set_at = setAt, previous = previous?.Cursor, origin = WatermarkOrigin.Of(job) });
        var lastSync = DateTimeOffset.TryParse(values![0], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var stamp) ? stamp : (DateTimeOffset?)null;
        // The same run-exclusion the reset relies on: a run that began meanwhile commits only from the
        // watermark it started at, so it fails rather than overwrite this one (CompleteRunActivity).
        await dbContext.Database.ExecuteSqlAsync(
            $"""
            INSERT INTO sync_watermarks AS w (key, last_sync, cursor, metadata, updated_at)
            VALUES ({name}, {lastSync}, {cursor}::jsonb, {metadata}::jsonb, now())
            ON CONFLICT (key) DO UPDATE
            SET last_sync = EXCLUDED.last_sync, cursor = EXCLUDED.cursor, metadata = EXCLUDED.metadata, updated_at = EXCLUDED.updated_at
            """,
            cancellationToken);
        return TypedResults.Ok(new WatermarkSet(name, values[0], previous?.Cursor, setAt));
    }

    /// <summary>
    /// Starts a backfill run: the rows with from ≤ cursor &lt; to go through the normal pipeline again;
    /// the job's watermark stays where it is. Refused for cdc and full-refresh jobs, with the reason.
    /// </summary>
    private static async Task<Results<Accepted<BackfillStarted>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> BackfillAsync(
        string name, BackfillRange body, JobCatalog jobs, StreamResolver streams, StageRequests stages, CoordinatorDbContext dbContext, IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        var unresolved = await StreamsResolution.ResolveIfMissingAsync(jobs, streams, name, "start the backfill again", cancellationToken);
        if (unresolved?.Invalid is { } invalid)
        {
            return invalid;
        }

        if ((unresolved?.Unanswered ?? Refusal(name, jobs, "backfill")) is { } refused)
        {
            return refused;
        }

        if (string.IsNullOrWhiteSpace(body.From) || string.IsNullOrWhiteSpace(body.To))
        {
            return OperationsApi.Problem(StatusCodes.Status400BadRequest, "A backfill needs a range.", "Send {\"from\": \"…\", \"to\": \"…\"}: the rows with from ≤ cursor < to are loaded again.");
        }

        if (await ActiveRunAsync(name, dbContext, cancellationToken) is { } active)
        {
            return OperationsApi.Problem(StatusCodes.Status409Conflict, $"Run {active} of job \"{name}\" is still active.", "Wait for it to finish, then start the backfill.");
        }

        var (values, problem) = await ParseAsync(jobs.Find(name)!, [body.From, body.To], stages, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        var runId = NewId.NextGuid();
        var range = new CursorRange(values![0], values[1]);
        await publish.PublishDurablyAsync(dbContext, new StartSyncRun(runId, name, BeginRunActivity.BackfillTrigger, DateTimeOffset.UtcNow, range), cancellationToken);
        return TypedResults.Accepted($"/api/runs/{runId}", new BackfillStarted(runId, name, range.From, range.To));
    }

    private static ProblemHttpResult? Refusal(string name, JobCatalog jobs, string what)
    {
        if (jobs.Find(name) is not { } job)
        {
            return OperationsApi.NoWatermarkOf(name, jobs, what);
        }

        return job.Mode switch
        {
            SyncMode.Cdc => OperationsApi.Problem(
                StatusCodes.Status409Conflict,
                $"Cannot {what} cdc job \"{name}\": its position is in the source's write-ahead log, not a cursor value.",
                "To copy a cdc job's table again: syncctl reset JOB, then run it (a fresh copy, then streaming)."),
            SyncMode.FullRefresh => OperationsApi.Problem(
                StatusCodes.Status409Conflict,
                $"Cannot {what} full-refresh job \"{name}\": each of its runs reads the whole source, whatever a watermark says.",
                "Run it: a full refresh loads every row."),
            _ => null,
        };
    }

    private static Task<Guid?> ActiveRunAsync(string name, CoordinatorDbContext dbContext, CancellationToken cancellationToken) =>
        dbContext.Runs.AsNoTracking()
            .Where(r => r.JobName == name && RunStates.Active.Contains(r.CurrentState))
            .Select(r => (Guid?)r.CorrelationId)
            .FirstOrDefaultAsync(cancellationToken);

    private static async Task<(IReadOnlyList<string>? Values, ProblemHttpResult? Problem)> ParseAsync(
        JobSpec job, IReadOnlyList<string> values, StageRequests stages, CancellationToken cancellationToken)
    {
        try
        {
            var answer = await stages.GetResponseAsync<CheckJobSchema, JobSchemaChecked>(new CheckJobSchema(job.Name, job, values), cancellationToken);
            return answer.Problems is [{ } first, ..]
                ? (null, OperationsApi.Problem(StatusCodes.Status422UnprocessableEntity, first.Message, $"Give a value of the cursor column \"{job.Source.Cursor}\" in PostgreSQL's input form (field {first.Field})."))
                : (answer.CursorValues, null);
        }
        catch (Exception e) when (e is RequestTimeoutException or RequestFaultException)
        {
            return (null, OperationsApi.Problem(
                StatusCodes.Status503ServiceUnavailable,
                $"The Extractor, which reads the value as the cursor's type, did not answer ({e.Message}).",
                "Start the Extractor, then try again; nothing was changed."));
        }
    }
}

/// <summary>The body of PUT /api/jobs/{name}/watermark.</summary>
internal sealed record WatermarkValue(string? Value);

/// <summary>The body of POST /api/jobs/{name}/backfill: from ≤ cursor &lt; to.</summary>
internal sealed record BackfillRange(string? From, string? To);

internal sealed record WatermarkSet(string JobName, string Watermark, string? PreviousWatermark, DateTimeOffset SetAt);

internal sealed record BackfillStarted(Guid RunId, string JobName, string From, string To);
