using MassTransit;
using Microsoft.AspNetCore.Http.HttpResults;
using Sync.Contracts;
using Sync.Contracts.Jobs;
using Sync.Coordinator.Jobs;
using Sync.Coordinator.Verification;
using Sync.Jobs;

namespace Sync.Coordinator.Api;

/// <summary>Verify a job's destination against its source (issue 15), optionally starting a repair run; read the latest result.</summary>
internal static class VerifyApi
{
    public static IEndpointRouteBuilder MapVerifyApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/jobs/{name}/verify", VerifyAsync);
        app.MapGet("/api/jobs/{name}/verify", LatestAsync);
        return app;
    }

    /// <summary>Compares now and answers when done; with ?repair=true a job found different gets a repair run (repairRunId), to follow and verify again.</summary>
    private static async Task<Results<Ok<VerificationView>, Ok<StreamsVerificationView>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> VerifyAsync(
        string name, JobCatalog jobs, StreamResolver streams, JobVerifications verifications, CancellationToken cancellationToken, bool repair = false)
    {
        // A streams job as a whole (issue 18): every stream, resolved against the source first as a run
        // does. A cdc streams job is found as a job of its own name once resolved, its streams inside it.
        if (jobs.FindStreams(name) is { } streamsJob && streamsJob.Name == name)
        {
            var resolution = await StreamsResolution.ResolveAsync(streams, streamsJob, "verify again", cancellationToken);
            if (resolution.Unanswered is { } unanswered)
            {
                return unanswered;
            }

            if (resolution.Invalid is { } invalid)
            {
                return invalid;
            }

            var views = new List<VerificationView>();
            foreach (var stream in StreamsOf(resolution.Expansion!))
            {
                views.Add(await VerifyStreamAsync(verifications, stream, repair, cancellationToken));
            }

            return TypedResults.Ok(StreamsVerificationView.Of(name, views));
        }

        // A stream (JOB.STREAM) is found once its streams job is resolved, which a restart undoes.
        var unresolved = await StreamsResolution.ResolveIfMissingAsync(jobs, streams, name, "verify again", cancellationToken);
        if (unresolved?.Unanswered is { } notAnswered)
        {
            return notAnswered;
        }

        if (unresolved?.Invalid is { } notValid)
        {
            return notValid;
        }

        if (jobs.Find(name) is { } job)
        {
            return TypedResults.Ok(await verifications.VerifyAsync(job, repair, cancellationToken));
        }

        // A cdc stream (JOB.STREAM) is no job of its own, its changes coming through its streams job's
        // one slot: it is verified as that job's stream, alone.
        if (jobs.FindStreams(name) is { } parent && parent.Name != name)
        {
            var resolution = await StreamsResolution.ResolveAsync(streams, parent, "verify again", cancellationToken);
            if (resolution.Unanswered is { } unanswered)
            {
                return unanswered;
            }

            if (resolution.Invalid is { } invalid)
            {
                return invalid;
            }

            if (StreamsOf(resolution.Expansion!).FirstOrDefault(s => s.Name == name) is { } stream)
            {
                return TypedResults.Ok(await VerifyStreamAsync(verifications, stream, repair, cancellationToken));
            }
        }

        return UnknownJob(name, jobs);
    }

    // A cdc stream is compared but not repaired by key (CdcStreamRepairNote says why).
    private static async Task<VerificationView> VerifyStreamAsync(JobVerifications verifications, JobSpec stream, bool repair, CancellationToken cancellationToken) =>
        await verifications.VerifyAsync(stream, repair && stream.Mode != SyncMode.Cdc, cancellationToken) is var view && repair && stream.Mode == SyncMode.Cdc && view.ExitCode == 1
            ? view with { RepairNote = CdcStreamRepairNote }
            : view;

    /// <summary>
    /// The latest verification of a job or of a stream (<c>JOB.STREAM</c>: a cursor stream's own, or a cdc
    /// stream's, kept under its name by the whole job's verification). Of a streams job as a whole, its
    /// streams resolved as the POST does, the latest result of each with the worst outcome; a stream never
    /// verified (a table joined since) is listed as not verified and makes the outcome Unverifiable, since
    /// the job as a whole has not been proven.
    /// </summary>
    private static async Task<Results<Ok<VerificationView>, Ok<StreamsVerificationView>, UnprocessableEntity<ValidationView>, ProblemHttpResult>> LatestAsync(
        string name, JobCatalog jobs, StreamResolver streams, JobVerifications verifications, CancellationToken cancellationToken)
    {
        if (jobs.FindStreams(name) is { } streamsJob && streamsJob.Name == name)
        {
            var resolution = await StreamsResolution.ResolveAsync(streams, streamsJob, "ask again", cancellationToken);
            if (resolution.Unanswered is { } unanswered)
            {
                return unanswered;
            }

            if (resolution.Invalid is { } invalid)
            {
                return invalid;
            }

            var views = new List<VerificationView>();
            var notVerified = new List<string>();
            foreach (var stream in StreamsOf(resolution.Expansion!))
            {
                if (await verifications.LatestAsync(stream.Name, cancellationToken) is { } latest)
                {
                    views.Add(latest);
                }
                else
                {
                    notVerified.Add(stream.Name);
                }
            }

            return views.Count > 0 ? TypedResults.Ok(StreamsVerificationView.Of(name, views, notVerified)) : NotVerifiedYet(name);
        }

        // A stream of a streams job (its own name, a job of its own or not) is found by its job.
        if (jobs.Find(name) is null && jobs.FindStreams(name) is null)
        {
            return UnknownJob(name, jobs);
        }

        return await verifications.LatestAsync(name, cancellationToken) is { } found ? TypedResults.Ok(found) : NotVerifiedYet(name);
    }

    private static ProblemHttpResult NotVerifiedYet(string name) =>
        OperationsApi.Problem(StatusCodes.Status404NotFound, $"Job \"{name}\" has not been verified yet.", "Verify it with POST /api/jobs/{name}/verify (syncctl verify <job>).");

    /// <summary>The streams a streams job resolved to: its stream jobs, or the streams inside its one cdc job.</summary>
    private static IEnumerable<JobSpec> StreamsOf(StreamExpansionResult expansion) => expansion.Jobs.SelectMany(j => j.Streams ?? [j]);

    // A repair run reads keys by the job's name, and a cdc stream (JOB.STREAM) is no job of its own: it
    // is read through its streams job's one slot, which a repair run must not share with the running job.
    private const string CdcStreamRepairNote = "a cdc stream is not repaired by key: its changes come through the streams job's one slot; "
        + "remove the stream from the job file and add it back (reload), which copies its table again";

    private static ProblemHttpResult UnknownJob(string name, JobCatalog jobs)
    {
        var (title, detail) = jobs.NotRunnable(name);
        return OperationsApi.Problem(StatusCodes.Status404NotFound, title, detail);
    }
}

/// <summary>
/// A streams job's verification: each stream's, and the worst outcome (its exit code is the CLI's). Of
/// the latest results (GET), <see cref="NotVerified"/> names the streams without one: they count as Unverifiable.
/// </summary>
internal sealed record StreamsVerificationView(string JobName, string Outcome, int ExitCode, IReadOnlyList<VerificationView> Streams)
{
    public IReadOnlyList<string>? NotVerified { get; init; }

    public static StreamsVerificationView Of(string jobName, IReadOnlyList<VerificationView> streams, IReadOnlyList<string>? notVerified = null)
    {
        var exitCode = streams.Count == 0 || notVerified is { Count: > 0 } ? (int)VerifyOutcome.Unverifiable : streams.Max(s => s.ExitCode);
        return new StreamsVerificationView(jobName, ((VerifyOutcome)exitCode).ToString(), exitCode, streams) { NotVerified = notVerified };
    }
}
