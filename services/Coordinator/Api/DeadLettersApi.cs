using System.Text.Json;
using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Data;
using Sync.Coordinator.DeadLetters;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Runs;
using Sync.Coordinator.Runs.Activities;

namespace Sync.Coordinator.Api;

/// <summary>Listing dead letters, replaying them (records through a replay run, messages from their error queue) and discarding records.</summary>
internal static class DeadLettersApi
{
    public static IEndpointRouteBuilder MapDeadLettersApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/dead-letters", ListAsync);
        app.MapGet("/api/dead-letters/{id:long}", GetAsync);
        app.MapPost("/api/jobs/{name}/dead-letters/replay", ReplayAsync);
        app.MapPost("/api/dead-letters/{id:long}/discard", DiscardAsync);
        app.MapPost("/api/error-queues/{queue}/replay", ReplayErrorQueueAsync);
        return app;
    }

    private static async Task<Ok<List<DeadLetterView>>> ListAsync(
        CoordinatorDbContext dbContext, CancellationToken cancellationToken, string? job = null, string? stream = null, string? status = null, string? kind = null, int limit = 100)
    {
        var query = dbContext.DeadLetters.AsNoTracking();
        query = job is null ? query : query.Where(d => d.JobName == job);
        query = stream is null ? query : query.Where(d => d.Stream == stream);
        query = status is null ? query : query.Where(d => d.Status == status);
        query = kind is null ? query : query.Where(d => d.Kind == kind);
        var letters = await query.OrderBy(d => d.Id).Take(Math.Clamp(limit, 1, 1000)).ToListAsync(cancellationToken);
        return TypedResults.Ok(letters.Select(DeadLetterView.Of).ToList());
    }

    private static async Task<Results<Ok<DeadLetterView>, NotFound>> GetAsync(long id, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        var letter = await dbContext.DeadLetters.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        return letter is null ? TypedResults.NotFound() : TypedResults.Ok(DeadLetterView.Of(letter));
    }

    /// <summary>
    /// Discards a pending record dead letter: it stays in the store, marked <c>discarded</c> with the
    /// time, and is never replayed. 404 unknown; 409 when it is not pending (replaying, replayed,
    /// already discarded) or is a whole message, which lives in its error queue.
    /// </summary>
    private static async Task<Results<Ok<DeadLetterView>, NotFound<ProblemDetailsBody>, Conflict<ProblemDetailsBody>>> DiscardAsync(
        long id, CoordinatorDbContext dbContext, CancellationToken cancellationToken)
    {
        var letter = await dbContext.DeadLetters.AsNoTracking().FirstOrDefaultAsync(d => d.Id == id, cancellationToken);
        if (letter is null)
        {
            return TypedResults.NotFound(ProblemDetailsBody.Of($"There is no dead letter {id}.", "List them with GET /api/dead-letters (syncctl dead-letters list)."));
        }

        if (letter.Kind != DeadLetterStates.Record)
        {
            return TypedResults.Conflict(ProblemDetailsBody.Of(
                $"Dead letter {id} is a whole message in the {letter.Queue} error queue, not a record.",
                "Replay the error queue (POST /api/error-queues/{queue}/replay) or purge the message with RabbitMQ's tools."));
        }

        // Only a pending one: a replay under way owns its dead letters until its run ends.
        var discarded = await dbContext.DeadLetters
            .Where(d => d.Id == id && d.Status == DeadLetterStates.Pending)
            .ExecuteUpdateAsync(u => u.SetProperty(d => d.Status, DeadLetterStates.Discarded).SetProperty(d => d.ResolvedAt, DateTimeOffset.UtcNow), cancellationToken);
        if (discarded == 0)
        {
            return TypedResults.Conflict(ProblemDetailsBody.Of($"Dead letter {id} is {letter.Status}, not pending.", "Only a pending dead letter can be discarded."));
        }

        var now = await dbContext.DeadLetters.AsNoTracking().FirstAsync(d => d.Id == id, cancellationToken);
        return TypedResults.Ok(DeadLetterView.Of(now));
    }

    /// <summary>
    /// Starts a replay run of the job's pending record dead letters (all, or the body's ids). 202
    /// with the run; 200 with no run when nothing is pending; 409 while a run of the job is active, and
    /// 409 when a dead letter to replay names no stream the job follows now (a cdc streams job's
    /// dead letter recorded before streams were kept, or whose stream left the file): its table
    /// would be a guess, so nothing is replayed until it is discarded or left out by id. A stream of a
    /// cdc streams job (<c>JOB.STREAM</c>, no job of its own) replays the job's dead letters of that
    /// stream, by the same rules, in a replay run of the job. A streams job by cursor as a whole
    /// replays each of its streams (<see cref="ReplayStreamsAsync"/>). A stream or a cdc streams job
    /// not resolved since the Coordinator started is resolved first (503, 422 as a run's start).
    /// </summary>
    private static async Task<Results<Accepted<ReplayStarted>, Ok<ReplayStarted>, Accepted<StreamReplaysStarted>, Ok<StreamReplaysStarted>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> ReplayAsync(
        string name, ReplayRequest? request, JobCatalog jobs, StreamResolver streams, CoordinatorDbContext dbContext, IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        var ids = request?.Ids is { Count: > 0 } wanted ? wanted.ToArray() : null;
        if (jobs.FindStreams(name) is { Defaults.Mode: not SyncMode.Cdc } cursorStreams && cursorStreams.Name == name)
        {
            // Its streams as they resolve now, as a start of its runs takes them.
            var resolution = await StreamsResolution.ResolveAsync(streams, cursorStreams, "replay again", cancellationToken);
            if (resolution.Unanswered is { } unanswered)
            {
                return unanswered;
            }

            if (resolution.Invalid is { } invalid)
            {
                return invalid;
            }

            return await ReplayStreamsAsync(name, [.. resolution.Expansion!.Jobs.Select(j => j.Name)], ids, dbContext, publish, cancellationToken);
        }

        var unresolved = await StreamsResolution.ResolveIfMissingAsync(jobs, streams, name, "replay again", cancellationToken);
        if (unresolved?.Unanswered is { } notAnswered)
        {
            return notAnswered;
        }

        if (unresolved?.Invalid is { } notValid)
        {
            return notValid;
        }

        var job = jobs.Find(name);
        string? stream = null;
        if (job is null && jobs.FindStreams(name) is { } streamsJob && streamsJob.Name != name && jobs.Find(streamsJob.Name) is { Streams: { } followed } cdcJob)
        {
            // A stream the job no longer follows is still named by its dead letters, which are refused below with their ids.
            if (!followed.Any(s => s.Name == name) && !await dbContext.DeadLetters.AnyAsync(d => d.JobName == cdcJob.Name && d.Stream == name, cancellationToken))
            {
                return OperationsApi.Problem(
                    StatusCodes.Status404NotFound,
                    $"Job \"{cdcJob.Name}\" has no stream \"{name}\".",
                    $"Its streams: {string.Join(", ", followed.Select(s => s.Name).Order(StringComparer.Ordinal))}.");
            }

            (job, stream) = (cdcJob, name);
        }

        if (job is null)
        {
            var (title, detail) = jobs.NotRunnable(name);
            return OperationsApi.Problem(StatusCodes.Status404NotFound, title, detail);
        }

        var active = await dbContext.Runs.AsNoTracking()
            .Where(r => r.JobName == job.Name && RunStates.Active.Contains(r.CurrentState))
            .Select(r => (Guid?)r.CorrelationId)
            .FirstOrDefaultAsync(cancellationToken);
        if (active is not null)
        {
            return OperationsApi.Problem(StatusCodes.Status409Conflict, $"Run {active} of job \"{job.Name}\" is still active.", "Wait for it to finish, then replay.");
        }

        var letters = await dbContext.DeadLetters.AsNoTracking()
            .Where(d => d.JobName == job.Name && d.Kind == DeadLetterStates.Record && d.Status == DeadLetterStates.Pending && (ids == null || ids.Contains(d.Id))
                && (stream == null || d.Stream == stream))
            .Select(d => new { d.Id, d.Stream })
            .ToListAsync(cancellationToken);
        var unplaced = letters.Where(d => DeadLetterStreams.ReplayJob(job, d.Stream) is null).Select(d => d.Id).ToList();
        if (unplaced.Count > 0)
        {
            return Unplaced(name, unplaced);
        }

        var pending = letters.Count;
        if (pending == 0)
        {
            return TypedResults.Ok(new ReplayStarted(null, job.Name, 0, stream));
        }

        // The replay run claims the job's pending dead letters by id: a stream's are its ids.
        var limit = BeginReplayActivity.Limit;
        var claimed = stream is null ? ids : letters.Select(d => d.Id).Order().Take(limit).ToArray();
        var runId = NewId.NextGuid();
        await publish.PublishDurablyAsync(dbContext, new ReplayDeadLetters(runId, job.Name, claimed, DateTimeOffset.UtcNow), cancellationToken);
        return TypedResults.Accepted($"/api/runs/{runId}", new ReplayStarted(runId, job.Name, Math.Min(pending, limit), stream));
    }

    /// <summary>
    /// Replays a streams job by cursor as a whole. Each stream is a job of its own, so each stream with
    /// pending dead letters (of the body's ids, if any) gets a replay run of its own, as a start of the
    /// job gets a run per stream; at most <see cref="BeginReplayActivity.Limit"/> dead letters in all,
    /// the oldest first. As there, a stream whose run is active is left alone and named in
    /// <c>stillActive</c> while the others replay; 409 when every stream with some to replay is active.
    /// 200 with no run when nothing is pending; 409 when a dead letter belongs to a stream the job no
    /// longer follows, as for a cdc streams job.
    /// </summary>
    private static async Task<Results<Accepted<ReplayStarted>, Ok<ReplayStarted>, Accepted<StreamReplaysStarted>, Ok<StreamReplaysStarted>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> ReplayStreamsAsync(
        string jobName, IReadOnlyList<string> streamJobs, long[]? ids, CoordinatorDbContext dbContext, IPublishEndpoint publish, CancellationToken cancellationToken)
    {
        // Job and stream names hold no dot, so the prefix takes exactly its streams' dead letters, those of a stream it has left too.
        var prefix = jobName + ".";
        var letters = await dbContext.DeadLetters.AsNoTracking()
            .Where(d => d.JobName.StartsWith(prefix) && d.Kind == DeadLetterStates.Record && d.Status == DeadLetterStates.Pending && (ids == null || ids.Contains(d.Id)))
            .OrderBy(d => d.Id)
            .Select(d => new { d.Id, d.JobName })
            .ToListAsync(cancellationToken);
        var unplaced = letters.Where(d => !streamJobs.Contains(d.JobName)).Select(d => d.Id).ToList();
        if (unplaced.Count > 0)
        {
            return Unplaced(jobName, unplaced);
        }

        if (letters.Count == 0)
        {
            return TypedResults.Ok(new StreamReplaysStarted(jobName, [], []));
        }

        var named = letters.Select(d => d.JobName).Distinct().ToList();
        var active = await dbContext.Runs.AsNoTracking()
            .Where(r => named.Contains(r.JobName) && RunStates.Active.Contains(r.CurrentState))
            .Select(r => new { r.JobName, r.CorrelationId })
            .ToListAsync(cancellationToken);
        var stillActive = active.Select(r => r.JobName).Distinct().Order(StringComparer.Ordinal).ToList();
        var replayable = letters.Where(d => !stillActive.Contains(d.JobName)).Take(BeginReplayActivity.Limit).ToList();
        if (replayable.Count == 0)
        {
            return OperationsApi.Problem(
                StatusCodes.Status409Conflict,
                $"The runs of every stream of job \"{jobName}\" with dead letters to replay are still active: {string.Join(", ", active.OrderBy(r => r.JobName, StringComparer.Ordinal).Select(r => $"{r.CorrelationId} ({r.JobName})"))}.",
                "Wait for them to finish, then replay.");
        }

        var runs = new List<ReplayStarted>();
        foreach (var stream in replayable.GroupBy(d => d.JobName).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            // Each run claims its stream's dead letters by id, so the limit holds across the streams.
            var runId = NewId.NextGuid();
            var claimed = stream.Select(d => d.Id).ToArray();
            await publish.PublishDurablyAsync(dbContext, new ReplayDeadLetters(runId, stream.Key, claimed, DateTimeOffset.UtcNow), cancellationToken);
            runs.Add(new ReplayStarted(runId, stream.Key, claimed.Length));
        }

        return TypedResults.Accepted($"/api/jobs/{jobName}/runs", new StreamReplaysStarted(jobName, runs, stillActive));
    }

    private static ProblemHttpResult Unplaced(string name, List<long> unplaced) =>
        OperationsApi.Problem(
            StatusCodes.Status409Conflict,
            $"{unplaced.Count} dead letter(s) of job \"{name}\" name no stream the job follows now ({string.Join(", ", unplaced.Order().Take(10))}{(unplaced.Count > 10 ? ", …" : "")}); "
            + "their replay could load into the wrong table, so nothing was replayed.",
            "Discard them (syncctl dead-letters discard ID) or replay the others by id (syncctl dead-letters replay JOB --id ID …); "
            + "a stream removed from the job file can be added back to replay its dead letters.");

    /// <summary>Moves the messages of <c>{queue}_error</c> back to <c>{queue}</c> (at most ?limit=, default 1000) and resolves their dead letters.</summary>
    private static async Task<Results<Ok<ErrorQueueReplayed>, NotFound<ProblemDetailsBody>, BadRequest<ProblemDetailsBody>>> ReplayErrorQueueAsync(
        string queue, ErrorQueueReplay replay, CoordinatorDbContext dbContext, CancellationToken cancellationToken, int limit = 1000)
    {
        if (!ErrorQueueReplay.IsQueueName(queue))
        {
            return TypedResults.BadRequest(ProblemDetailsBody.Of($"\"{queue}\" is not a queue name.", "Name the consumer queue, e.g. load-batch, not load-batch_error."));
        }

        var moved = await replay.MoveBackAsync(queue, Math.Max(1, limit), cancellationToken);
        if (moved is null)
        {
            return TypedResults.NotFound(ProblemDetailsBody.Of($"There is no queue {queue} with an error queue {queue}_error."));
        }

        var resolved = moved > 0 ? await DeadLetterStore.ResolveMessagesAsync(dbContext, queue, cancellationToken) : 0;
        return TypedResults.Ok(new ErrorQueueReplayed(queue, moved.Value, resolved));
    }
}

internal sealed record ReplayRequest(IReadOnlyList<long>? Ids);

/// <param name="Stream">The stream (<c>JOB.STREAM</c>) of a cdc streams job whose dead letters alone were replayed; null for the whole job.</param>
internal sealed record ReplayStarted(Guid? RunId, string JobName, int DeadLetters, string? Stream = null);

/// <summary>The replay runs a replay of a streams job by cursor began, one per stream with dead letters to replay, and the streams left alone because a run of theirs is still active.</summary>
internal sealed record StreamReplaysStarted(string JobName, List<ReplayStarted> Runs, List<string> StillActive);

internal sealed record ErrorQueueReplayed(string Queue, int Moved, int DeadLettersResolved);

/// <summary>A dead letter as the API shows it: the record readable, the reason, where it stands.</summary>
internal sealed record DeadLetterView(
    long Id,
    string Kind,
    string JobName,
    string? Stream,
    Guid RunId,
    Guid ExtractionId,
    int BatchSeq,
    int RowIndex,
    string Stage,
    string Error,
    string? Queue,
    JsonElement? Record,
    int Attempts,
    string Status,
    Guid? ReplayRunId,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ResolvedAt)
{
    public static DeadLetterView Of(DeadLetter d) => new(
        d.Id, d.Kind, d.JobName, d.Stream, d.RunId, d.ExtractionId, d.BatchSeq, d.RowIndex, d.Stage, d.Error, d.Queue,
        d.RecordText is null ? null : JsonDocument.Parse(d.RecordText).RootElement.Clone(),
        d.Attempts, d.Status, d.ReplayRunId, d.CreatedAt, d.ResolvedAt);
}
